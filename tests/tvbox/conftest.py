"""Fixtures of the TV box tests: real SQLite stores, a recording speaker, and for end-to-end
tests the demo server process and a box process (modules override them where they differ)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol import ElderInfo, Lang
from tests.tvbox.box_process import BoxProcess
from tests.tvbox.live_server import DemoServer
from tvbox.outbox import Outbox
from tvbox.speech import Priority
from tvbox.store import BoxStore
from tvbox.viewmodels.app import AppViewModel

ELDER = ElderInfo(id=1, name="王秀英", lang=Lang.ZH, timezone="Asia/Shanghai")


class RecordingSpeaker:
    """Keeps what the box asked to say, in order."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str, Priority]] = []
        self.stops = 0

    def speak(self, text: str, lang: str, priority: Priority = Priority.NORMAL) -> None:
        self.said.append((text, lang, priority))

    def stop(self) -> None:
        self.stops += 1

    def set_voice(self, *, rate: int, volume: float) -> None:
        self.voice = (rate, volume)

    @property
    def last(self) -> str:
        return self.said[-1][0]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[BoxStore]:
    box_store = BoxStore(tmp_path / "box.sqlite3")
    yield box_store
    box_store.close()


@pytest.fixture
def speaker() -> RecordingSpeaker:
    return RecordingSpeaker()


@pytest.fixture
def vm(store: BoxStore, speaker: RecordingSpeaker) -> AppViewModel:
    """An unpaired box, English by default."""
    return AppViewModel(store, Outbox(store), speaker, Lang.EN)


@pytest.fixture
def paired_vm(store: BoxStore, speaker: RecordingSpeaker) -> AppViewModel:
    """A paired box whose elder reads English."""
    store.save_pairing(7, "token-7", ELDER.model_copy(update={"lang": Lang.EN}))
    return AppViewModel(store, Outbox(store), speaker, Lang.ZH)


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[DemoServer]:
    """A server process seeded with the demo world."""
    live = DemoServer(db_url, tmp_path / "server")
    live.start()
    yield live
    live.stop()


@pytest.fixture
def box_lang() -> str:
    """The language the box starts in (a module overrides this fixture for English)."""
    return "zh"


@pytest.fixture
def box(tmp_path: Path, server: DemoServer, box_lang: str) -> Iterator[BoxProcess]:
    """A box process (not started) against ``server``."""
    process = BoxProcess(tmp_path / "box", server.url, lang=box_lang)
    yield process
    process.stop()

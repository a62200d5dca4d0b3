"""Fixtures of the TV box tests: real SQLite stores, a recording speaker, view-models, and for
end-to-end tests the demo server process and a box process (modules override them where they
differ). What they are built from lives in `tests/support`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol import Lang
from tests.support.box import BoxProcess
from tests.support.live_server import DemoServer
from tests.support.viewmodels import ELDER, RecordingSpeaker, make_app_vm
from tvbox.box import AppViewModel
from tvbox.store import BoxStore


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
    return make_app_vm(store, speaker, Lang.EN)


@pytest.fixture
def paired_vm(store: BoxStore, speaker: RecordingSpeaker) -> AppViewModel:
    """A paired box whose elder reads English."""
    return make_app_vm(store, speaker, Lang.ZH, ELDER.model_copy(update={"lang": Lang.EN}))


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

"""Box view-models for plain pytest (no Kivy): the elder a paired box serves, a speaker that
records what the box asked to say, and a factory for the app's view-model over a real store."""

from __future__ import annotations

from protocol import ElderInfo, Lang
from tvbox.box import AppViewModel
from tvbox.outbox import Outbox
from tvbox.speech import Priority
from tvbox.store import BoxStore

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


def make_app_vm(
    store: BoxStore,
    speaker: RecordingSpeaker,
    lang: Lang = Lang.EN,
    elder: ElderInfo | None = None,
) -> AppViewModel:
    """The app's view-model over ``store``, starting in ``lang``; paired with ``elder`` (as
    device 7) when one is given, otherwise unpaired."""
    if elder is not None:
        store.save_pairing(7, "token-7", elder)
    return AppViewModel(store, Outbox(store), speaker, lang)

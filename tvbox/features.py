"""The features of the box, listed once.

Each line is one feature folder: its kv file (beside its screens) and the screens it
shows, named by import path so that only the window (`tvbox.app`) loads Kivy, and only
when it builds. A feature's controller (no Kivy) is built by `tvbox.box.AppViewModel`
and owns the same `Screen` members (`tvbox.router`).

To add a feature: a folder `tvbox/<feature>/` (controller, view, `screen.py` + `screen.kv`),
one line below, its `Screen` member(s), and its controller in `AppViewModel`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from tvbox.router import Screen


@dataclass(frozen=True)
class Feature:
    """One feature folder as the window sees it."""

    name: str
    kv: str | None  # relative to tvbox/
    screens: dict[Screen, str]  # Screen -> "module:Class" of its Kivy screen


FEATURES: tuple[Feature, ...] = (
    Feature("ui", "ui/widgets.kv", {}),
    Feature("link", "link/screen.kv", {Screen.PAIRING: "tvbox.link.screen:PairingScreen"}),
    Feature("home", "home/screen.kv", {Screen.HOME: "tvbox.home.screen:HomeScreen"}),
    Feature(
        "settings", "settings/screen.kv", {Screen.SETTINGS: "tvbox.settings.screen:SettingsScreen"}
    ),
    Feature("notice", "notice/screen.kv", {Screen.NOTICE: "tvbox.notice.screen:NoticeScreen"}),
    Feature(
        "reminders",
        "reminders/screen.kv",
        {
            Screen.REMINDER: "tvbox.reminders.screen:ReminderScreen",
            Screen.MEDICINES: "tvbox.reminders.screen:MedicinesScreen",
        },
    ),
    Feature("calls", "calls/screen.kv", {Screen.CALL: "tvbox.calls.screen:CallScreen"}),
    Feature("sos", "sos/screen.kv", {Screen.SOS: "tvbox.sos.screen:SosScreen"}),
)

# The connection badge drawn over every screen.
BADGE = "tvbox.ui.widgets:LinkBadge"


def load(ref: str) -> type:
    """The class named by ``"module:Class"`` (imports its module)."""
    module, _, name = ref.partition(":")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def kv_files() -> list[str]:
    """Every feature's kv file, relative to tvbox/, in the order listed."""
    return [f.kv for f in FEATURES if f.kv is not None]


def screen_refs() -> dict[str, str]:
    """Screen name -> "module:Class" of every screen of every feature."""
    return {screen.value: ref for f in FEATURES for screen, ref in f.screens.items()}

"""The features of the box, listed once.

Each line is one feature folder: how to build its controllers (no Kivy), its kv file
(beside its screens) and the screens it shows, named by import path so that only the
window (`tvbox.app`) loads Kivy, and only when it builds. `tvbox.box.AppViewModel` builds
every listed feature's controllers with itself as their `FeatureHost`, and hands them to
the `Router` in this order: where several take the same key or message, the earlier
feature gets it first (a key: a call, then the check-in's answer, then SOS…).

To add a feature: a folder `tvbox/<feature>/` (`controller.py` with its `Controller` and
`build(host)`, `view.py`, `screen.py` + `screen.kv`, its `Screen`s declared there) and one
line below.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from tvbox.appointments.controller import BOOK, CANCEL, CONFIRM, VISIT_REMINDER
from tvbox.appointments.controller import build as appointments
from tvbox.calls.controller import build as calls
from tvbox.context import FeatureHost
from tvbox.home.controller import build as home
from tvbox.link.controller import build as link
from tvbox.meals.controller import MEAL_MENU, MEAL_ORDER
from tvbox.meals.controller import build as meals
from tvbox.notice.controller import build as notice
from tvbox.reminders.controller import build as reminders
from tvbox.router import Controller, Screen
from tvbox.settings.controller import build as settings
from tvbox.sos.check_in import build as sos

Build = Callable[[FeatureHost], tuple[Controller, ...]]


@dataclass(frozen=True)
class Feature:
    """One feature folder: its controllers, its kv file and its screens."""

    name: str
    build: Build | None  # host -> the feature's controllers (None: shared widgets only)
    kv: str | None  # relative to tvbox/
    screens: dict[Screen, str]  # Screen -> "module:Class" of its Kivy screen


FEATURES: tuple[Feature, ...] = (
    Feature("ui", None, "ui/widgets.kv", {}),
    Feature("calls", calls, "calls/screen.kv", {Screen.CALL: "tvbox.calls.screen:CallScreen"}),
    Feature("sos", sos, "sos/screen.kv", {Screen.SOS: "tvbox.sos.screen:SosScreen"}),
    Feature(
        "reminders",
        reminders,
        "reminders/screen.kv",
        {
            Screen.REMINDER: "tvbox.reminders.screen:ReminderScreen",
            Screen.MEDICINES: "tvbox.reminders.screen:MedicinesScreen",
        },
    ),
    Feature(
        "appointments",
        appointments,
        "appointments/screen.kv",
        {
            Screen.APPOINTMENTS: "tvbox.appointments.screen:VisitsScreen",
            BOOK: "tvbox.appointments.screen:BookScreen",
            CONFIRM: "tvbox.appointments.screen:ConfirmScreen",
            CANCEL: "tvbox.appointments.screen:CancelScreen",
            VISIT_REMINDER: "tvbox.appointments.screen:VisitReminderScreen",
        },
    ),
    Feature(
        "meals",
        meals,
        "meals/screen.kv",
        {
            Screen.MEALS: "tvbox.meals.screen:MealsScreen",
            MEAL_ORDER: "tvbox.meals.screen:MealOrderScreen",
            MEAL_MENU: "tvbox.meals.screen:MealMenuScreen",
        },
    ),
    Feature("home", home, "home/screen.kv", {Screen.HOME: "tvbox.home.screen:HomeScreen"}),
    Feature(
        "settings",
        settings,
        "settings/screen.kv",
        {Screen.SETTINGS: "tvbox.settings.screen:SettingsScreen"},
    ),
    Feature(
        "notice", notice, "notice/screen.kv", {Screen.NOTICE: "tvbox.notice.screen:NoticeScreen"}
    ),
    Feature("link", link, "link/screen.kv", {Screen.PAIRING: "tvbox.link.screen:PairingScreen"}),
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

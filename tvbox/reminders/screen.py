"""Reminder screen: full-screen medicine reminder over whatever was showing."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from protocol import Lang
from tvbox.box import AppViewModel
from tvbox.ui.i18n import text


class ReminderScreen(Screen):
    """Shows `ReminderView`: the medicines (name, colour, dose, instructions) and 3 answers."""

    title = StringProperty("")
    hint = StringProperty("")
    lines = ListProperty([])
    choices = ListProperty([])

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the reminder view into the kv properties (only while it is on screen)."""
        if vm.screen.value != self.name:
            return
        view = vm.reminders.view(vm.lang)
        self.title = view.title
        self.hint = view.hint
        self.lines = [
            {"medicine": ln.medicine, "colour": ln.colour, "detail": ln.detail}
            for ln in view.lines[:3]
        ]
        self.choices = [{"text": label, "focused": focused} for label, focused in view.choices]
        _fill(self.ids.lines, "MedicineRow", self.lines)
        _fill(self.ids.choices, "ChoiceButton", self.choices)


class MedicinesScreen(Screen):
    """The Medicines tile: today's doses and their state, and the next dose."""

    title = StringProperty("")
    hint = StringProperty("")
    summary = StringProperty("")
    rows = ListProperty([])

    def refresh(self, vm: AppViewModel) -> None:
        """Copy today's doses into the kv properties (only while it is on screen)."""
        if vm.screen.value != self.name:
            return
        lang: Lang = vm.lang
        self.title = text(lang, "medicines.title")
        self.hint = text(lang, "medicines.hint")
        rows = vm.reminders.today(lang, vm.clock.now())
        self.rows = [
            {
                "time": r.time,
                "medicine": r.medicine,
                "colour": r.colour,
                "state": r.label,
                "done": r.state in ("taken", "skipped"),
            }
            for r in rows[:6]
        ]
        self.summary = (
            vm.next_medicine_summary()
            if rows or vm.reminders.plans
            else text(lang, "medicines.empty")
        )
        _fill(self.ids.rows, "DoseLine", self.rows)


def _fill(container: Any, kind: str, items: list[dict[str, Any]]) -> None:
    """Rebuild ``container``'s children as ``kind`` widgets with ``items``' values."""
    if getattr(container, "_filled_with", None) == items:
        return  # unchanged: refresh runs on every state change
    container._filled_with = list(items)
    container.clear_widgets()
    for values in items:
        widget = getattr(Factory, kind)()
        for name, value in values.items():
            setattr(widget, name, value)
        container.add_widget(widget)

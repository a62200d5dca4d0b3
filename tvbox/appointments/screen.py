"""The appointment screens: the visit list, a booking step, confirm, cancel, a visit reminder.

Each shows one `PageView` of the appointments controller: a title, a body, up to six
numbered choices and a hint.
"""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from tvbox.appointments.controller import AppointmentsController
from tvbox.box import AppViewModel


class ApptPage(Screen):
    """One appointment screen; copies its page view in while it is on screen."""

    title = StringProperty("")
    body = StringProperty("")
    hint = StringProperty("")
    alert = BooleanProperty(False)
    choices = ListProperty([])

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the controller's page view into the kv properties (only while shown)."""
        if vm.screen.value != self.name:
            return
        control = vm.router.owner(vm.screen)
        assert isinstance(control, AppointmentsController)
        page = control.page(vm.screen)
        self.title = page.title
        self.body = page.body
        self.hint = page.hint
        self.alert = page.alert
        self.choices = [
            {"number": str(c.number), "label": c.label, "focused": c.focused} for c in page.choices
        ]
        _fill(self.ids.choices, self.choices)


class VisitsScreen(ApptPage):
    """The Appointments tile: upcoming visits and "Book a visit"."""


class BookScreen(ApptPage):
    """One step of "Book a visit"."""


class ConfirmScreen(ApptPage):
    """The held slot, said in full; OK books."""


class CancelScreen(ApptPage):
    """ "Cancel this visit?"."""


class VisitReminderScreen(ApptPage):
    """A visit reminder over whatever was showing."""


def _fill(container: Any, items: list[dict[str, Any]]) -> None:
    if getattr(container, "_filled_with", None) == items:
        return  # unchanged: refresh runs on every state change
    container._filled_with = list(items)
    container.clear_widgets()
    for values in items:
        bar = Factory.ApptChoice()
        for name, value in values.items():
            setattr(bar, name, value)
        container.add_widget(bar)

"""The appointment screens: the visit list, a booking step, confirm, cancel, a visit reminder.

Each shows one `PageView` of the appointments controller: a title, a body, up to six
numbered choices and a hint.
"""

from __future__ import annotations

from tvbox.appointments.controller import AppointmentsController
from tvbox.box import AppViewModel
from tvbox.ui.widgets import ChoicePage


class ApptPage(ChoicePage):
    """One appointment screen; shows the appointments controller's page view while shown."""

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the controller's page view in (only while shown)."""
        if vm.screen.value != self.name:
            return
        control = vm.router.owner(vm.screen)
        assert isinstance(control, AppointmentsController)
        self.show(control.page(vm.screen))


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

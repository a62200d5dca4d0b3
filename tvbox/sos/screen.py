"""SOS screen: the cancel window, 'sending', 'delivered', and who has seen the call."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from tvbox.box import AppViewModel


class SosScreen(Screen):
    """Shows `SosView`: a title, where the call stands, and what the keys do."""

    title = StringProperty("")
    body = StringProperty("")
    hint = StringProperty("")
    phase = StringProperty("idle")

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the view-model's SOS view into the kv properties."""
        view = vm.sos.view(vm.lang)
        self.title = view.title
        self.body = view.body
        self.hint = view.hint
        self.phase = view.phase

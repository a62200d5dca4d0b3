"""Pairing screen: the code in huge digits and what to do with it."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from tvbox.box import AppViewModel
from tvbox.link.pairing import PairingView


class PairingScreen(Screen):
    """Shows `PairingView`; has no buttons: OK/Back just repeat the spoken code."""

    title = StringProperty("")
    instructions = StringProperty("")
    code = StringProperty("")
    status = StringProperty("")
    hint = StringProperty("")

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the view-model's pairing view into the kv properties."""
        view: PairingView = vm.pairing.view(
            vm.lang, server_reachable=vm.link_state.value != "offline"
        )
        self.title = view.title
        self.instructions = view.instructions
        self.code = view.code
        self.status = view.status
        self.hint = view.hint

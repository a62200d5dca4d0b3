"""Pairing on the TV: the code on screen, pairing done, the box revoked, welcomed back.

The app keeps the elder record itself (it is read-only state every feature sees); this
controller shows what the link's events mean on screen. No Kivy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocol import RevokeReason
from tvbox.context import BoxContext, FeatureHost
from tvbox.events import PairedWithElder, PairingCodeIssued, Unpaired, Welcomed
from tvbox.link.pairing import PairingViewModel
from tvbox.router import Controller, Screen
from tvbox.speech import Priority
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction


class PairingController(Controller):
    """The pairing screen and the link events that lead to it or away from it."""

    screens = (Screen.PAIRING,)

    def __init__(self, ctx: BoxContext, pairing: PairingViewModel) -> None:
        self.ctx = ctx
        self.pairing = pairing

    def prompt(self, screen: Screen) -> str:
        return self.pairing.prompt(self.ctx.lang)

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        """OK and Back say the code again (there is nowhere else to go before pairing)."""
        if action in (RemoteAction.OK, RemoteAction.BACK):
            self.ctx.repeat_prompt()
            return True
        return False

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {
            PairingCodeIssued: self._code_issued,
            PairedWithElder: self._paired,
            Welcomed: self._welcomed,
            Unpaired: self._unpaired,
        }

    def _code_issued(self, event: PairingCodeIssued) -> None:
        self.pairing.show_code(event.code, event.expires_at)
        if self.ctx.screen is Screen.PAIRING:
            self.ctx.repeat_prompt()

    def _paired(self, event: PairedWithElder) -> None:
        self.pairing.clear()
        self.ctx.show(Screen.HOME, None, reset=True)
        self.ctx.say(text(self.ctx.lang, "pairing.done", name=event.elder.name), cut=True)
        self.ctx.say(self.ctx.prompt())

    def _welcomed(self, event: Welcomed) -> None:
        # The server sends the elder's plans (and the rest of its state) on connect, unasked.
        if self.ctx.screen is Screen.PAIRING:
            self.ctx.show(Screen.HOME, reset=True)

    def _unpaired(self, event: Unpaired) -> None:
        ended = event.reason == RevokeReason.SERVICE_ENDED.value
        self.pairing.clear(revoked=True, service_ended=ended)
        self.ctx.show(Screen.PAIRING, None)
        key = "pairing.service_ended" if ended else "pairing.revoked"
        self.ctx.say(text(self.ctx.lang, key), Priority.HIGH, cut=True)


def build(host: FeatureHost) -> tuple[Controller, ...]:
    """The pairing screen's controller (see `tvbox.features`)."""
    return (PairingController(host, PairingViewModel()),)

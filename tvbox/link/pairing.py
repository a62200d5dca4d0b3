"""Pairing screen: show and speak the six-digit code a family member enters on the web."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from protocol import Lang
from tvbox.ui.i18n import spaced_digits, spell_digits, text


@dataclass(frozen=True)
class PairingView:
    """Everything the pairing screen shows, already translated."""

    title: str
    instructions: str
    code: str
    status: str
    hint: str


class PairingViewModel:
    """The code on show (None while the box is getting one) and why the box is here."""

    def __init__(self) -> None:
        self.code: str | None = None
        self.expires_at: datetime | None = None
        self.revoked = False
        self.service_ended = False  # the care centre ended the elder's service

    def show_code(self, code: str, expires_at: datetime) -> None:
        """A new code arrived from the server."""
        self.code = code
        self.expires_at = expires_at

    def clear(self, *, revoked: bool = False, service_ended: bool = False) -> None:
        """Drop the code (it is used up or the box was revoked, and why)."""
        self.code = None
        self.expires_at = None
        self.revoked = revoked
        self.service_ended = service_ended

    def view(self, lang: Lang, *, server_reachable: bool) -> PairingView:
        """The translated pairing screen."""
        if self.code:
            status = ""
        elif server_reachable:
            status = text(lang, "pairing.waiting_for_code")
        else:
            status = text(lang, "pairing.no_server")
        return PairingView(
            title=text(lang, self._title_key()),
            instructions=text(lang, "pairing.instructions"),
            code=spaced_digits(self.code) if self.code else "",
            status=status,
            hint=text(lang, "pairing.hint") if self.code else "",
        )

    def _title_key(self) -> str:
        if self.service_ended:
            return "pairing.title_service_ended"
        return "pairing.title_revoked" if self.revoked else "pairing.title"

    def prompt(self, lang: Lang) -> str:
        """What is said on this screen: the code digit by digit, or 'please wait'."""
        if self.code:
            return text(lang, "pairing.spoken", digits=spell_digits(lang, self.code))
        return text(lang, "pairing.spoken_waiting")

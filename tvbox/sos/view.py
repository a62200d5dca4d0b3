"""The SOS screen's state: cancel window, sending, delivered, and who answered.

Phases, in order::

    IDLE → (sensor / voice / check-in) COUNTDOWN → SENDING → DELIVERED → ACKNOWLEDGED → IDLE
    IDLE → (red key) ─────────────────────────────┘
    IDLE → (daily check-in due, elder inactive) CHECK_IN → answered: IDLE | 5 min: SENDING
    IDLE → (a cry for help heard once) ASK → cried again or "yes": COUNTDOWN | OK, red: SENDING
                                           | Back, "no", no answer: IDLE

SENDING means stored in the box's outbox and not yet acked by the server; the screen says
so plainly and the link keeps retrying. No Kivy, no network: `AppViewModel` drives it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from protocol import Lang, Role, SosAcknowledged, SosSource
from tvbox.ui.i18n import text


class SosPhase(Enum):
    """Where the elder's call for help stands on this TV."""

    IDLE = "idle"
    CHECK_IN = "check_in"
    ASK = "ask"  # "Do you need help?": a cry heard once, not yet a call
    COUNTDOWN = "countdown"
    SENDING = "sending"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class SosView:
    """Everything the SOS screen shows, already translated."""

    title: str
    body: str
    hint: str
    phase: str


_CJK = re.compile(r"[\u3400-\u9fff]")


def relation_in(lang: Lang, relation: str) -> str:
    """The part of a relation like "女儿 daughter" in ``lang`` (all of it if not mixed)."""
    words = relation.split()
    if lang is Lang.ZH:
        chosen = [w for w in words if _CJK.search(w)]
    else:
        chosen = [w for w in words if not _CJK.search(w)]
    return " ".join(chosen) if chosen else relation


class SosViewModel:
    """The current SOS on this TV (there is at most one)."""

    def __init__(self, cancel_seconds: float = 10.0) -> None:
        self.cancel_seconds = cancel_seconds
        self.phase = SosPhase.IDLE
        self.source = SosSource.RED_KEY
        self.detail = ""
        self.key: str | None = None
        self.seconds_left = 0
        self.online = True
        self.acked_by = ""
        self.acked_relation = ""
        self.acked_role: Role | None = None

    @property
    def active(self) -> bool:
        """Whether a call for help is under way and not yet answered."""
        return self.phase in (SosPhase.COUNTDOWN, SosPhase.SENDING, SosPhase.DELIVERED)

    def start_countdown(self, source: SosSource, detail: str) -> None:
        """A sensor, voice or check-in SOS: wait out the cancel window first."""
        self.phase = SosPhase.COUNTDOWN
        self.source, self.detail = source, detail
        self.seconds_left = max(1, round(self.cancel_seconds))

    def sending(self, key: str, source: SosSource, detail: str) -> None:
        """The SOS is stored in the outbox under ``key``."""
        self.phase = SosPhase.SENDING
        self.key, self.source, self.detail = key, source, detail
        self.acked_by = self.acked_relation = ""
        self.acked_role = None

    def delivered(self) -> None:
        """The server acked the SOS."""
        if self.phase is SosPhase.SENDING:
            self.phase = SosPhase.DELIVERED

    def acknowledged(self, message: SosAcknowledged) -> None:
        """Someone pressed Acknowledge."""
        self.phase = SosPhase.ACKNOWLEDGED
        self.key = message.key
        self.acked_by = message.by_name
        self.acked_relation = message.relation
        self.acked_role = message.by_role

    def reset(self) -> None:
        """No SOS any more (cancelled or resolved)."""
        self.phase = SosPhase.IDLE
        self.key = None

    def acknowledged_text(self, lang: Lang) -> str:
        """ "Your daughter Li Na has seen your call. Help is coming." """
        name = self.acked_by or text(lang, "help.someone")
        if self.acked_role in (Role.OPERATOR, Role.ADMIN):
            return text(lang, "help.acked_centre", name=name)
        relation = relation_in(lang, self.acked_relation)
        if relation:
            return text(lang, "help.acked_relation", relation=relation, name=name)
        return text(lang, "help.acked_name", name=name)

    def ask(self, detail: str) -> None:
        """A cry for help was heard once: ask before calling (see voice.intents.MAYBE_SOS)."""
        self.phase = SosPhase.ASK
        self.source, self.detail = SosSource.VOICE, detail

    def ask_check_in(self) -> None:
        """The daily check-in is due and the elder has not been active today."""
        self.phase = SosPhase.CHECK_IN

    def body(self, lang: Lang) -> str:
        """The main message of the current phase."""
        if self.phase is SosPhase.CHECK_IN:
            return text(lang, "help.check_in_ask")
        if self.phase is SosPhase.ASK:
            return text(lang, "help.ask")
        if self.phase is SosPhase.COUNTDOWN:
            return text(lang, "help.countdown", seconds=self.seconds_left)
        if self.phase is SosPhase.SENDING:
            return text(lang, "help.sending" if self.online else "help.not_sent")
        if self.phase is SosPhase.DELIVERED:
            return text(lang, "help.delivered")
        if self.phase is SosPhase.ACKNOWLEDGED:
            return self.acknowledged_text(lang)
        return text(lang, "help.idle")

    def view(self, lang: Lang) -> SosView:
        """The translated screen."""
        hint, title = "help.hint", "help.title"
        if self.phase is SosPhase.COUNTDOWN:
            hint = "help.hint_countdown"
        elif self.phase is SosPhase.CHECK_IN:
            hint, title = "help.hint_check_in", "help.check_in_title"
        elif self.phase is SosPhase.ASK:
            hint, title = "help.hint_ask", "help.ask_title"
        elif self.phase is SosPhase.ACKNOWLEDGED:
            title = "help.title_acked"
        return SosView(
            title=text(lang, title),
            body=self.body(lang),
            hint=text(lang, hint),
            phase=self.phase.value,
        )

    def prompt(self, lang: Lang) -> str:
        """What is said when the screen appears or the phase changes."""
        if self.phase is SosPhase.COUNTDOWN:
            return text(lang, "help.countdown_spoken", seconds=self.seconds_left)
        return self.body(lang)

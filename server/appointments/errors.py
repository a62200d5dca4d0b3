"""Errors of booking, each with its machine code and words in the caller's language.

Hierarchy (mapped at the edge by `server.app` like every `AppError`)::

    Conflict (409)
    ├── SlotTaken        slot_taken      the last place went to someone else
    ├── Overlap          overlap         the elder has a visit at that time
    ├── HoldExpired      hold_expired    the hold ran out (or was never theirs)
    └── ClinicClosed     clinic_closed   inside a closure of the doctor or the clinic
    InvalidInput (422)
    └── OutsideWindow    outside_window  in the past, or past the bookable window
    ServerBusy (503, with Retry-After)
    └── ClinicUnavailable clinic_unavailable  a clinic's own FHIR server did not answer, or
                                              answered garbage; nothing was booked
"""

from __future__ import annotations

from protocol import ErrorCode, Lang
from server.errors import Conflict, InvalidInput, ServerBusy
from server.web.i18n import translate


class SlotTaken(Conflict):
    """The slot has no free place left."""

    default_code = ErrorCode.SLOT_TAKEN

    def __init__(self, lang: Lang) -> None:
        super().__init__(translate(lang, "appointments.slot_taken"))


class Overlap(Conflict):
    """The elder already has a visit overlapping this one."""

    default_code = ErrorCode.OVERLAP

    def __init__(self, lang: Lang, elder: str) -> None:
        super().__init__(translate(lang, "appointments.overlap", elder=elder))


class HoldExpired(Conflict):
    """The hold named in a booking is gone."""

    default_code = ErrorCode.HOLD_EXPIRED

    def __init__(self, lang: Lang) -> None:
        super().__init__(translate(lang, "appointments.hold_expired"))


class ClinicClosed(Conflict):
    """The slot falls inside a closure."""

    default_code = ErrorCode.CLINIC_CLOSED

    def __init__(self, lang: Lang) -> None:
        super().__init__(translate(lang, "appointments.clinic_closed"))


class OutsideWindow(InvalidInput):
    """A time before now or past the rolling window."""

    default_code = ErrorCode.OUTSIDE_WINDOW

    def __init__(self, lang: Lang, days: int) -> None:
        super().__init__(translate(lang, "appointments.outside_window", days=days))


class ClinicUnavailable(ServerBusy):
    """A clinic that runs its own system did not answer in time, failed, or sent garbage."""

    default_code = ErrorCode.CLINIC_UNAVAILABLE

    def __init__(self, lang: Lang, clinic: str, why: str = "") -> None:
        text = translate(lang, "appointments.clinic_unavailable", clinic=clinic)
        super().__init__(text, retry_after=60.0)
        self.why = why  # for the log: timeout, status 502, not JSON, an invalid Bundle…

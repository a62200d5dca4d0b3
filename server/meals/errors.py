"""Errors of ordering meals, each with its machine code and words in the caller's language.

Hierarchy (mapped at the edge by `server.app` like every `AppError`)::

    Conflict (409)
    ├── TooLate          too_late        past the meal's cut-off: call the meal point
    ├── SoldOut          sold_out        the last portion went to someone else
    └── AlreadyOrdered   conflict        the elder has an order for that meal already
"""

from __future__ import annotations

from protocol import ErrorCode, Lang
from server.errors import Conflict
from server.web.i18n import translate


class TooLate(Conflict):
    """Orders for that meal closed at its cut-off; ``phone`` is the meal point's."""

    default_code = ErrorCode.TOO_LATE

    def __init__(self, lang: Lang, point: str, phone: str) -> None:
        key = "meals.too_late" if phone else "meals.too_late_no_phone"
        super().__init__(translate(lang, key, point=point, phone=phone))
        self.phone = phone


class SoldOut(Conflict):
    """Every portion of that meal is ordered."""

    default_code = ErrorCode.SOLD_OUT

    def __init__(self, lang: Lang) -> None:
        super().__init__(translate(lang, "meals.sold_out"))


class AlreadyOrdered(Conflict):
    """The elder has a live order for that day and meal: change it instead."""

    def __init__(self, lang: Lang, elder: str) -> None:
        super().__init__(translate(lang, "meals.already_ordered", elder=elder))

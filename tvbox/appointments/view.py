"""The steps of "Book a visit" (what each screen shows is a `tvbox.ui.choices.PageView`).
No Kivy."""

from __future__ import annotations

from enum import Enum


class Step(Enum):
    """The steps of "Book a visit", in order."""

    DEPARTMENTS = "departments"
    CLINICS = "clinics"
    DAYS = "days"
    PART = "part"  # morning or afternoon: asked on the box, no server needed
    TIMES = "times"


STEPS = tuple(Step)

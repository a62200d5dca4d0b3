"""Text that people type and others read: names and labels, trimmed, never blank.

One definition for every API body and page form, so a name of spaces (or of the full-width
spaces a Chinese input method types) is refused the same way everywhere: a 422 with a
clear message from the API, an inline error on a page, and nothing stored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

BLANK_MESSAGE = "cannot be blank"


def _typed_text(max_length: int) -> AfterValidator:
    """Trim, refuse blank, and limit what is kept (after trimming) to ``max_length``."""

    def check(value: str) -> str:
        if is_blank(value):
            raise ValueError(BLANK_MESSAGE)
        trimmed = value.strip()
        if len(trimmed) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return trimmed

    return AfterValidator(check)


Name = Annotated[str, _typed_text(120)]
"""A person's, elder's, medicine's or place's name: at most 120 characters once trimmed."""

Label = Annotated[str, _typed_text(60)]
"""A short label such as a relation ("daughter", "女儿"): at most 60 characters once trimmed."""


def is_blank(raw: str) -> bool:
    """True when ``raw`` holds no visible text: what `Name` and `Label` refuse."""
    # str.strip() trims every Unicode space, U+3000 (ideographic space) included.
    return not raw.strip()

"""Row ids as the edge accepts them: one bounded type for paths, queries, JSON bodies and forms.

An id the databases cannot hold (SQLite raises ``OverflowError`` past 2⁶³ − 1, PostgreSQL
``NumericValueOutOfRange`` past 2³¹ − 1) used to reach the query and leave as a 500. Every id a
client sends is now checked against `MAX_ROW_ID` before any query runs, and one outside the range
is refused as invalid input (422 with the usual JSON body), like an id that is not a number at
all: it is a malformed request, not a question about a thing that might exist, and the bound is
declared in the OpenAPI document so a client can know it in advance.
"""

from __future__ import annotations

import re

from protocol.ids import MAX_ROW_ID, RowId

__all__ = ["MAX_ROW_ID", "RowId", "form_row_id"]

_DIGITS = re.compile(r"[0-9]{1,10}")


def form_row_id(raw: object) -> int | None:
    """The id a page form typed as text carries, or None when it is not a valid row id."""
    text = str(raw if raw is not None else "").strip()
    # Only ASCII digits: str.isdigit() also accepts "²", which int() then refuses.
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None

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
from typing import Annotated

from annotated_types import Ge, Le

# 2³¹ − 1, not SQLite's 2⁶³ − 1: id columns are `Integer`, which is int4 on PostgreSQL, and a
# larger id fails there ("integer out of range") long before SQLite's limit. One bound for both
# databases, so the API answers the same on each. Raise it together with a migration to BIGINT.
MAX_ROW_ID = 2**31 - 1

RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]
"""The id of a database row, as a path or query parameter, a body field or a form field."""

_DIGITS = re.compile(r"[0-9]{1,10}")


def form_row_id(raw: object) -> int | None:
    """The id a page form typed as text carries, or None when it is not a valid row id."""
    text = str(raw if raw is not None else "").strip()
    # Only ASCII digits: str.isdigit() also accepts "²" and "１", which int() then refuses.
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None

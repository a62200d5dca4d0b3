"""Row ids on the wire: the one bounded integer type every id a peer sends must fit.

The server's databases hold ids up to 2³¹ − 1 (``Integer`` columns are int4 on PostgreSQL); an id
beyond that used to reach a query and fail there. Messages and HTTP bodies refuse it on parsing
instead, so the sender gets an ``invalid``/``malformed`` answer and the connection stays open.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

# The largest id an `Integer` id column holds on PostgreSQL; SQLite would hold more, but the
# server answers the same on both databases. Raise it together with a migration to BIGINT.
MAX_ROW_ID = 2**31 - 1

RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]
"""The id of a database row: a path or query parameter, a body, form or message field."""

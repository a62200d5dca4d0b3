"""The care centre's list of elders: one page of an area's elders, searched and filtered.

Fast with 100 000 elders in an area: pages are read along an index (``ix_elders_service_area_id_id``
for "newest", ``ix_elders_area_name`` of migration 0012 for "by name"), one row more than
the page says whether there is a next page, and the total is counted only up to
`COUNT_CAP` (past it the page says "more than 10 000"). A name search is "contains" (the
index is walked in order until a page is found: a rare name reads the whole area, measured
in bench/admin.py); a phone search is "contains these digits" on the stored digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from server.models import Device, Elder, User
from server.permissions import visible_elders

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
COUNT_CAP = 10_000
_DIGITS = re.compile(r"^[0-9+\- ()]+$")


class Status(StrEnum):
    """Which elders the list shows."""

    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    ALL = "all"


class Order(StrEnum):
    """How the list is sorted."""

    NEWEST = "newest"
    NAME = "name"


@dataclass
class ElderRow:
    """One line of the list."""

    elder: Elder
    paired: bool

    @property
    def age(self) -> int | None:
        """The elder's age this year, if the birth year is known."""
        year = self.elder.birth_year
        return None if year is None else datetime.now(UTC).year - year


@dataclass
class ElderPage:
    """One page of the list, and what the page needs to link onwards."""

    rows: list[ElderRow]
    offset: int
    limit: int
    has_more: bool
    total: int  # at most COUNT_CAP + 1 (then: "more than COUNT_CAP")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(
    user: User, q: str = "", status: Status = Status.ALL, area_id: int | None = None
) -> Select[tuple[Elder]]:
    """The elders ``user`` may see, narrowed by search, status and (admin) area."""
    query = visible_elders(user).order_by(None)
    if area_id is not None:
        query = query.where(Elder.service_area_id == area_id)
    if status is Status.ACTIVE:
        query = query.where(Elder.is_active.is_(True))
    elif status is Status.DEACTIVATED:
        query = query.where(Elder.is_active.is_(False))
    q = " ".join(q.split())
    if q:
        by_name = Elder.name.ilike(_like(q), escape="\\")
        digits = re.sub(r"[^0-9]", "", q)
        if _DIGITS.match(q) and digits:
            query = query.where(or_(Elder.phone.contains(digits, autoescape=True), by_name))
        else:
            query = query.where(or_(by_name, Elder.register_ref == q))
    return query


def elder_page(
    db: Session,
    user: User,
    *,
    q: str = "",
    status: Status = Status.ALL,
    order: Order = Order.NEWEST,
    area_id: int | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    count: bool = True,
) -> ElderPage:
    """One page of the elders ``user`` may see."""
    query = filtered(user, q, status, area_id)
    if order is Order.NAME:
        query = query.order_by(Elder.name, Elder.id)
    else:
        query = query.order_by(Elder.id.desc())
    paired = (
        exists()
        .where(Device.elder_id == Elder.id, Device.revoked_at.is_(None))
        .correlate(Elder)
        .label("paired")
    )
    rows = db.execute(query.add_columns(paired).offset(offset).limit(limit + 1)).all()
    total = 0
    if count:
        capped = filtered(user, q, status, area_id).with_only_columns(Elder.id).limit(COUNT_CAP + 1)
        total = db.scalar(select(func.count()).select_from(capped.subquery())) or 0
    return ElderPage(
        rows=[ElderRow(elder, bool(is_paired)) for elder, is_paired in rows[:limit]],
        offset=offset,
        limit=limit,
        has_more=len(rows) > limit,
        total=total,
    )

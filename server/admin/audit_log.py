"""The audit log as an administrator searches it: filters, pages, labels, local times.

The page shows times and reads its date filters in the administrator's own zone (as their
browser reports it; Asia/Shanghai until it has), and says which zone that is. The JSON API
reads dates as Asia/Shanghai days: one clock for every client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from protocol import Lang
from server.admin.errors import FieldProblem
from server.models import AuditEntry, User
from server.web.i18n import catalog

PAGE_SIZE = 50
# Families of actions offered as one choice in the filter ("admin." = every admin action).
PREFIXES = ("admin.", "elder.", "sos.", "call.", "consult.", "medication.", "device.")


@dataclass
class AuditQuery:
    """The audit page's filters; empty means any."""

    actor: str = ""  # part of the actor's e-mail or name
    action: str = ""  # an action, or a prefix ending in "."
    elder_id: int | None = None
    target: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    page: int = 1
    zone: str = "Asia/Shanghai"  # the zone whose days the dates are


@dataclass
class AuditRow:
    """One entry with who did it, for the page and the JSON."""

    entry: AuditEntry
    actor: str
    actor_email: str


def parse_date(value: str | None, field: str) -> date | None:
    """A yyyy-mm-dd date from a filter; empty is None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FieldProblem(field, "admin.error.bad_date") from None


def _start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone))


def search(db: Session, query: AuditQuery) -> tuple[list[AuditRow], int]:
    """Newest first, one page of entries matching ``query``, and how many match in all."""
    where: list[ColumnElement[bool]] = []
    if query.actor.strip():
        like = f"%{query.actor.strip().lower()}%"
        ids = select(User.id).where(
            func.lower(User.email).like(like) | func.lower(User.name).like(like)
        )
        where.append(AuditEntry.actor_user_id.in_(ids))
    action = query.action.strip()
    if action.endswith("."):
        where.append(AuditEntry.action.startswith(action, autoescape=True))
    elif action:
        where.append(AuditEntry.action == action)
    if query.elder_id is not None:
        where.append(AuditEntry.elder_id == query.elder_id)
    if query.target.strip():
        where.append(AuditEntry.target == query.target.strip())
    if query.date_from is not None:
        where.append(AuditEntry.at >= _start(query.date_from, query.zone))
    if query.date_to is not None:
        where.append(AuditEntry.at < _start(query.date_to + timedelta(days=1), query.zone))
    total = db.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    entries = db.scalars(
        select(AuditEntry)
        .where(*where)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((max(query.page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    user_ids = {e.actor_user_id for e in entries if e.actor_user_id is not None}
    users = (
        {u.id: u for u in db.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    )
    rows = []
    for entry in entries:
        user = users.get(entry.actor_user_id) if entry.actor_user_id else None
        if user is not None:
            rows.append(AuditRow(entry, user.name, user.email))
        elif entry.actor_device_id is not None:
            rows.append(AuditRow(entry, f"TV box {entry.actor_device_id}", ""))
        else:
            rows.append(AuditRow(entry, "", ""))
    return rows, int(total)


def known_actions(db: Session) -> list[str]:
    """The prefixes, then every action recorded so far."""
    found = db.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    return [*PREFIXES, *found]


def action_label(lang: Lang, action: str) -> str:
    """A person's words for ``action`` (its code when the catalog has none)."""
    key = f"audit.action.{action}"
    return catalog(lang).get(key) or catalog(Lang.EN).get(key) or action

"""A person's own log-in sessions: list them, end one, end all but this one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server import audit
from server.accounts import end_all_sessions
from server.auth.browsers import browser_name
from server.errors import NotFound
from server.models import SessionKind, User, UserSession, utcnow


@dataclass(frozen=True)
class SessionView:
    """One live session as its owner sees it."""

    id: int
    kind: SessionKind
    browser: str
    system: str
    user_agent: str
    ip: str
    started_at: datetime
    last_seen_at: datetime | None
    current: bool


def live_sessions(db: Session, user: User, current_id: int | None) -> list[SessionView]:
    """The user's unrevoked, unexpired sessions, this one first, then the latest used."""
    rows = db.scalars(
        select(UserSession).where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > utcnow(),
        )
    ).all()
    views = [
        SessionView(
            id=row.id,
            kind=row.kind,
            browser=browser_name(row.user_agent)[0],
            system=browser_name(row.user_agent)[1],
            user_agent=row.user_agent,
            ip=row.ip,
            started_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=row.id == current_id,
        )
        for row in rows
    ]
    return sorted(
        views, key=lambda v: (not v.current, -(v.last_seen_at or v.started_at).timestamp())
    )


def end_own_session(db: Session, user: User, session_id: int) -> None:
    """End one of the user's own sessions; NotFound for anyone else's (or none)."""
    ended = db.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if ended.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"no session {session_id} of yours")
    audit.record(db, "account.session_ended", None, user=user, target=f"user:{user.id}")


def end_other_sessions(db: Session, user: User, current_id: int | None) -> int:
    """End every session of the user but this one; returns how many."""
    ended = end_all_sessions(db, user.id, keep_session_id=current_id)
    audit.record(
        db,
        "account.other_sessions_ended",
        None,
        user=user,
        target=f"user:{user.id}",
        detail=f"{ended}",
    )
    return ended

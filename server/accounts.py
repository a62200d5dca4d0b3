"""Log-in sessions of people and authentication of TV boxes by device token."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.core.config import Settings
from server.core.security import (
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)
from server.errors import Unauthorized
from server.models import Device, Elder, SessionKind, User, UserSession, utcnow

USER_AGENT_CHARS = 255  # the column's width
LAST_SEEN_EVERY = timedelta(minutes=1)


@cache
def _dummy_hash() -> str:
    # Verifying against a real hash when the e-mail is unknown keeps timing from revealing
    # accounts. Made on first use, not at import: argon2 would slow every server start.
    return hash_password("no-such-user-password")


def normalise_email(email: str) -> str:
    """E-mail addresses compare case-insensitively and without surrounding space."""
    return email.strip().lower()


def authenticate(db: Session, email: str, password: str) -> User:
    """The active user with these credentials, or `Unauthorized`."""
    user = db.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if user is None:
        verify_password(_dummy_hash(), password)
        raise Unauthorized("wrong e-mail or password")
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthorized("wrong e-mail or password")
    if needs_rehash(user.password_hash):  # made with older argon2 parameters: upgrade it
        user.password_hash = hash_password(password)
    return user


def start_session(
    db: Session,
    settings: Settings,
    user: User,
    kind: SessionKind,
    *,
    user_agent: str = "",
    ip: str = "",
) -> tuple[str, UserSession]:
    """A new session for ``user``; returns the token (shown once) and its row.

    The browser's user agent and address are kept to show in the person's session list.
    """
    token = new_token()
    now = utcnow()
    row = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        kind=kind,
        expires_at=now + timedelta(hours=settings.session_hours),
        user_agent=user_agent.strip()[:USER_AGENT_CHARS],
        ip=ip[:64],
        last_seen_at=now,
    )
    db.add(row)
    db.flush()
    return token, row


def session_for_token(db: Session, token: str | None) -> UserSession | None:
    """The live (unrevoked, unexpired) session row behind ``token``, or None."""
    if not token:
        return None
    row = db.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row


def user_for_token(db: Session, token: str | None, kind: SessionKind | None = None) -> User | None:
    """The user behind a live session token, or None; notes when the session was last used."""
    row = session_for_token(db, token)
    if row is None:
        return None
    if kind is not None and row.kind is not kind:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    # At most one write a minute per session: every request reads this, few need to write.
    if row.last_seen_at is None or now - row.last_seen_at >= LAST_SEEN_EVERY:
        row.last_seen_at = now
    return user


def end_session(db: Session, token: str) -> None:
    """Revoke the session behind ``token`` (log-out)."""
    row = db.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def device_for_token(db: Session, token: str | None) -> Device | None:
    """The paired, unrevoked device behind a device token, or None."""
    if not token:
        return None
    device = db.scalar(select(Device).where(Device.token_hash == token_hash(token)))
    if device is None or device.revoked_at is not None:
        return None
    return device


def elder_of(db: Session, device: Device) -> Elder:
    """The elder a device serves."""
    elder = db.get(Elder, device.elder_id)
    assert elder is not None  # foreign key
    return elder


def end_all_sessions(db: Session, user_id: int, *, keep_session_id: int | None = None) -> int:
    """Revoke every live session of the user (but ``keep_session_id``); returns how many.

    Used when a password is changed or reset and when an account is deactivated.
    """
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_session_id is not None:
        query = query.where(UserSession.id != keep_session_id)
    result = db.execute(
        query.values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""Changing a password, and resetting a forgotten one with an e-mailed link.

A change keeps the session it was made in and ends every other; a reset ends every session
(whoever knew the old password is logged out everywhere). A reset link for an address with
no account does the same database work and sends nothing, so the answer and its timing do
not tell whether an account exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import audit
from server.accounts import _dummy_hash, end_all_sessions, normalise_email
from server.core.security import hash_password, verify_password
from server.links import RESET_TTL, issue_link, link_url, peek_link, use_link
from server.models import LinkPurpose, User, utcnow
from server.notify import Email
from server.outgoing import queue_email
from server.password_policy import password_problem
from server.runtime import Runtime
from server.web.i18n import translate


class PasswordRefused(Exception):
    """Why a new password was not set: a message key and its values."""

    def __init__(self, key: str, **values: int | str) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def check_new_password(user: User, new: str, repeat: str) -> None:
    """PasswordRefused unless ``new`` is typed twice the same and passes the policy."""
    if new != repeat:
        raise PasswordRefused("admins.repeat_differs")
    problem = password_problem(new, email=user.email, name=user.name)
    if problem is not None:
        raise PasswordRefused(problem.key, **problem.values)


def set_password(db: Session, user: User, new: str) -> None:
    """Store the new password's hash and when it was changed."""
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()


def change_password(
    db: Session, user: User, keep_session_id: int | None, current: str, new: str, repeat: str
) -> int:
    """Change ``user``'s password; ends their other sessions and returns how many."""
    if not verify_password(user.password_hash, current):
        raise PasswordRefused("account.current_wrong")
    check_new_password(user, new, repeat)
    set_password(db, user, new)
    ended = end_all_sessions(db, user.id, keep_session_id=keep_session_id)
    detail = f"other sessions ended: {ended}"
    audit.record(
        db, "account.password_changed", None, user=user, target=f"user:{user.id}", detail=detail
    )
    return ended


@dataclass(frozen=True)
class ResetSent:
    """A queued reset e-mail (None when the address has no active account)."""

    message_id: int | None


def request_reset(db: Session, rt: Runtime, email: str) -> ResetSent:
    """Queue a reset link for the active account of ``email``, if there is one."""
    address = normalise_email(email)
    user = db.scalar(select(User).where(func.lower(User.email) == address))
    if user is None or not user.is_active:
        # The same work as for an account: a lookup above and a hash here (issue_link and
        # queue_email are cheap); the caller answers the same either way.
        verify_password(_dummy_hash(), address)
        return ResetSent(None)
    verify_password(_dummy_hash(), address)
    token, row = issue_link(
        db, rt.settings.secret_key, LinkPurpose.RESET, user.email, user_id=user.id, ttl=RESET_TTL
    )
    lang = user.lang
    url = link_url(rt.settings.public_base_url, LinkPurpose.RESET, token, lang.value)
    minutes = int(RESET_TTL.total_seconds() // 60)
    body = translate(lang, "reset.email_body", name=user.name, url=url, minutes=minutes)
    message_id = queue_email(
        db, Email(user.email, translate(lang, "reset.email_subject"), body), f"reset:{row.id}"
    )
    audit.record(db, "account.reset_requested", None, user=user, target=f"user:{user.id}")
    return ResetSent(message_id)


def reset_with_link(db: Session, rt: Runtime, token: str, new: str, repeat: str) -> User:
    """Set a new password with a reset link (used once); ends ALL of the user's sessions.

    LinkRefused if the link cannot be used, PasswordRefused if the password is not accepted
    (the link is then not used up).
    """
    row = peek_link(db, rt.settings.secret_key, LinkPurpose.RESET, token)
    user = db.get(User, row.user_id)
    assert user is not None  # peek_link refuses a link without an active account
    check_new_password(user, new, repeat)
    use_link(db, rt.settings.secret_key, LinkPurpose.RESET, token)
    first = user.password_changed_at is None
    set_password(db, user, new)
    ended = end_all_sessions(db, user.id)
    audit.record(
        db,
        "account.password_set" if first else "account.password_reset",
        None,
        user=user,
        target=f"user:{user.id}",
        detail=f"sessions ended: {ended}",
    )
    return user

"""One-time e-mailed links: invitations and password resets. Signed, expiring, single use.

A link's token is ``<random>.<signature>``: 32 random bytes, and an HMAC of them and the
link's purpose under the server's secret key. Only the SHA-256 of the token is stored
(`OneTimeLink.token_hash`), so the database alone cannot make a working link, and a
token changed by hand fails its signature before any lookup. A link is used by a
conditional UPDATE, so two clicks racing each other use it once.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.core.security import token_hash
from server.models import Elder, LinkPurpose, OneTimeLink, User, utcnow

INVITE_TTL = timedelta(days=7)
RESET_TTL = timedelta(hours=1)
TTL = {LinkPurpose.INVITE: INVITE_TTL, LinkPurpose.RESET: RESET_TTL}
PATHS = {LinkPurpose.INVITE: "/invite", LinkPurpose.RESET: "/reset-password"}


class LinkRefusal(StrEnum):
    """Why a link does not work; each has a page message ``link.<value>``."""

    DAMAGED = "damaged"  # not a token this server signed (changed, cut short)
    UNKNOWN = "unknown"  # signed, but no such link (withdrawn, or another server's)
    EXPIRED = "expired"
    USED = "used"
    INACTIVE = "inactive"  # its account or elder was deactivated


# The HTTP status of the page that refuses a link, by reason.
REFUSAL_STATUS = {
    LinkRefusal.DAMAGED: 400,
    LinkRefusal.UNKNOWN: 404,
    LinkRefusal.EXPIRED: 410,
    LinkRefusal.USED: 410,
    LinkRefusal.INACTIVE: 410,
}


class LinkRefused(Exception):
    """A link that cannot be used, and why."""

    def __init__(self, reason: LinkRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _signature(secret_key: str, purpose: LinkPurpose, random_part: str) -> str:
    message = f"link:{purpose.value}:{random_part}".encode()
    return hmac.new(secret_key.encode(), message, "sha256").hexdigest()[:32]


def issue_link(
    db: Session,
    secret_key: str,
    purpose: LinkPurpose,
    email: str,
    *,
    user_id: int | None = None,
    elder_id: int | None = None,
    relation: str = "",
    created_by: User | None = None,
    ttl: timedelta | None = None,
) -> tuple[str, OneTimeLink]:
    """A new link; returns its token (to put in the e-mail, never stored) and its row."""
    random_part = secrets.token_urlsafe(32)
    token = f"{random_part}.{_signature(secret_key, purpose, random_part)}"
    row = OneTimeLink(
        purpose=purpose,
        token_hash=token_hash(token),
        email=email,
        user_id=user_id,
        elder_id=elder_id,
        relation=relation,
        created_by_id=created_by.id if created_by else None,
        expires_at=utcnow() + (ttl or TTL[purpose]),
    )
    db.add(row)
    db.flush()
    return token, row


def link_url(base_url: str, purpose: LinkPurpose, token: str, lang: str | None = None) -> str:
    """The address to put in the e-mail; its page opens in ``lang`` (the e-mail's language)."""
    url = f"{base_url.rstrip('/')}{PATHS[purpose]}/{token}"
    return f"{url}?lang={lang}" if lang else url


def peek_link(db: Session, secret_key: str, purpose: LinkPurpose, token: str) -> OneTimeLink:
    """The link behind ``token`` if it can still be used (to show its form); else LinkRefused.

    Deactivation is checked here for what the row names (the account, the elder); a
    feature may refuse more (LinkRefusal.INACTIVE).
    """
    random_part, _, signature = token.partition(".")
    expected = _signature(secret_key, purpose, random_part)
    if not random_part or not hmac.compare_digest(signature, expected):
        raise LinkRefused(LinkRefusal.DAMAGED)
    row = db.scalar(
        select(OneTimeLink).where(
            OneTimeLink.token_hash == token_hash(token), OneTimeLink.purpose == purpose
        )
    )
    if row is None:
        raise LinkRefused(LinkRefusal.UNKNOWN)
    if row.used_at is not None:
        raise LinkRefused(LinkRefusal.USED)
    if row.expires_at <= utcnow():
        raise LinkRefused(LinkRefusal.EXPIRED)
    if row.user_id is not None:
        user = db.get(User, row.user_id)
        if user is None or not user.is_active:
            raise LinkRefused(LinkRefusal.INACTIVE)
    if row.elder_id is not None:
        elder = db.get(Elder, row.elder_id)
        if elder is None or not elder.is_active:  # the elder's service ended
            raise LinkRefused(LinkRefusal.INACTIVE)
    return row


def use_link(db: Session, secret_key: str, purpose: LinkPurpose, token: str) -> OneTimeLink:
    """Use the link once (in the caller's transaction); LinkRefused if it cannot be used."""
    row = peek_link(db, secret_key, purpose, token)
    claimed = db.execute(
        update(OneTimeLink)
        .where(OneTimeLink.id == row.id, OneTimeLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkRefused(LinkRefusal.USED)
    db.refresh(row)
    return row

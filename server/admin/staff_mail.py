"""What happens after a staff change is committed: the e-mail goes, the pages close.

Both need the change to be stored first: a set-your-password link that is e-mailed before its
row commits could be refused, and a page socket closed before the sessions are revoked could
reconnect at once.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.admin.staff import NewStaff
from server.outgoing import deliver
from server.runtime import Runtime


def mail_configured(rt: Runtime) -> bool:
    """Whether this server sends e-mail (otherwise it only logs it)."""
    return bool(rt.settings.smtp_host)


def after_create(db: Session, rt: Runtime, new: NewStaff) -> str | None:
    """Commit, send the set-your-password e-mail; the link itself when mail is not set up."""
    db.commit()
    deliver(rt, [new.mail_id])  # a failed send stays queued; the outgoing sweep retries it
    return None if mail_configured(rt) else new.url


def after_deactivate(db: Session, rt: Runtime, user_id: int) -> None:
    """Commit, then close every live page the person still has open."""
    db.commit()
    rt.hub.push(rt.hub.close_user(user_id, "account deactivated"))

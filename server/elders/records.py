"""Changing an elder's record: who may change what, the audit entry, and the push to
the elder's pages and TV boxes. The JSON API and the family page both come here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from protocol import Role
from server import audit
from server.errors import Forbidden
from server.models import Elder, User
from server.permissions import elder_for_viewing
from server.push import notify_elder_updated
from server.runtime import Runtime


def update_elder(
    rt: Runtime, db: Session, user: User, elder_id: int, changes: dict[str, Any]
) -> Elder:
    """Apply `changes` (validated ElderUpdate fields) to the elder; boxes hear of it."""
    elder = elder_for_viewing(db, user, elder_id)
    if user.role is Role.OPERATOR or (user.role is Role.DOCTOR and set(changes) - {"care_notes"}):
        raise Forbidden("you may not change this elder's record")
    for name, value in changes.items():
        setattr(elder, name, value)
    audit.record(db, "elder.updated", elder.id, user=user, detail=",".join(sorted(changes)))
    # Pages re-read themselves on the push: commit first, or one may read the record unchanged
    # and never hear of it again (as the pairing claim and the revocation already do).
    db.commit()
    notify_elder_updated(db, rt.hub, elder)
    return elder

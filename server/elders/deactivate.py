"""Ending an elder's service (deactivation) and taking it up again.

A deactivated elder keeps their record (readable, audited, in the list under
"deactivated"); their TV boxes are revoked and a connected box is told at once (it shows
its unpaired screen); no one is alerted about their medicines any more (the reminder
sweep skips them), and their family's pending invitations stop working (`server.links`).
Their family still sees them, marked "service ended". Reactivation lets a box be paired
again; it does not bring the revoked boxes back.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from protocol import RevokeReason, Topic
from server import audit
from server.elders.register import elder_for_care_centre
from server.models import Elder, User, utcnow
from server.pairing.devices import live_devices, mark_revoked, tell_revoked
from server.push import notify_elder
from server.runtime import Runtime

REVOKED_WHY = "this elder's service has ended"


def deactivate_elder(rt: Runtime, db: Session, user: User, elder_id: int) -> Elder:
    """End the elder's service (operator of their area, admin); nothing if already ended."""
    elder = elder_for_care_centre(db, user, elder_id)
    if not elder.is_active:
        return elder
    elder.is_active = False
    elder.deactivated_at = utcnow()
    devices = live_devices(db, elder.id)
    mark_revoked(db, user, elder, devices)
    audit.record(
        db,
        "elder.deactivate",
        elder.id,
        user=user,
        detail=f"boxes revoked: {len(devices)}",
        target=f"elder:{elder.id}",
    )
    db.commit()
    device_ids = [d.id for d in devices]
    tell_revoked(rt, db, elder, device_ids, REVOKED_WHY, RevokeReason.SERVICE_ENDED)
    notify_elder(db, rt.hub, elder, Topic.ELDER, {"active": False})
    return elder


def reactivate_elder(rt: Runtime, db: Session, user: User, elder_id: int) -> Elder:
    """Take the elder's service up again; a TV box can be paired again."""
    elder = elder_for_care_centre(db, user, elder_id)
    if elder.is_active:
        return elder
    elder.is_active = True
    elder.deactivated_at = None
    audit.record(db, "elder.reactivate", elder.id, user=user, target=f"elder:{elder.id}")
    db.commit()
    notify_elder(db, rt.hub, elder, Topic.ELDER, {"active": True})
    return elder

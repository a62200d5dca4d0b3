"""Revoking TV boxes: the token stops working, a connected box is told and cut off at once.

The family's "remove this TV box" and the care centre's deactivation of an elder both come
here, so a box hears of it the same way (the protocol's `Revoked`; it shows its unpaired
screen).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import RevokeReason, Topic
from server import audit
from server.errors import AppError, NotFound
from server.models import Device, Elder, User, utcnow
from server.permissions import elder_for_device_management
from server.push import notify_elder
from server.runtime import Runtime


def revoke(rt: Runtime, db: Session, user: User, device_id: int) -> Device:
    """Revoke a box (the elder's family or an admin): its token stops working at once."""
    device = db.get(Device, device_id)
    if device is None:
        raise NotFound(f"no TV box {device_id}")
    try:
        elder = elder_for_device_management(db, user, device.elder_id)
    except NotFound as err:
        raise NotFound(f"no TV box {device_id}") from err
    if device.revoked_at is not None:
        raise AppError("this TV box is already revoked")
    mark_revoked(db, user, elder, [device])
    db.commit()
    tell_revoked(rt, db, elder, [device.id], "this TV box was removed by the family")
    return device


def live_devices(db: Session, elder_id: int) -> list[Device]:
    """The elder's boxes that are not revoked."""
    query = select(Device).where(Device.elder_id == elder_id, Device.revoked_at.is_(None))
    return list(db.scalars(query))


def mark_revoked(db: Session, user: User, elder: Elder, devices: list[Device]) -> None:
    """Revoke ``devices`` in the caller's transaction, audited; commit, then `tell_revoked`."""
    now = utcnow()
    for device in devices:
        device.revoked_at = now
        device.revoked_by_id = user.id
        audit.record(db, "device.revoked", elder.id, user=user, detail=f"device {device.id}")


def tell_revoked(
    rt: Runtime,
    db: Session,
    elder: Elder,
    device_ids: list[int],
    why: str,
    reason: RevokeReason = RevokeReason.UNPAIRED,
) -> None:
    """After the commit: connected boxes are told (and why) and cut off; the elder's pages
    hear of it."""
    for device_id in device_ids:
        rt.hub.push(rt.hub.revoke_device(device_id, why, reason))
        notify_elder(db, rt.hub, elder, Topic.DEVICE, {"device_id": device_id, "revoked": True})

"""Elders the caller may see: list, read (audited) and update."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from protocol import Role
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.elders import records as elder_records
from server.elders.schemas import (
    AuditEntryPublic,
    DevicePublic,
    ElderDetailPublic,
    ElderPublic,
    ElderUpdate,
)
from server.errors import Forbidden
from server.ids import RowId
from server.models import AuditEntry, Device
from server.permissions import elder_for_viewing, visible_elders

router = APIRouter(prefix="/api/elders", tags=["elders"])


@router.get("", response_model=list[ElderPublic], responses=answers(401))
def list_elders(user: CurrentUser, db: SessionDep) -> list[ElderPublic]:
    """Every elder the caller may see."""
    return [ElderPublic.model_validate(e) for e in db.scalars(visible_elders(user))]


@router.get("/{elder_id}", response_model=ElderDetailPublic, responses=answers(401, 404, 422))
def read_elder(elder_id: RowId, user: CurrentUser, db: SessionDep) -> ElderDetailPublic:
    """One elder's record, with contacts and care notes; the read is audited."""
    elder = elder_for_viewing(db, user, elder_id)
    audit.record(db, "elder.read", elder.id, user=user)
    return ElderDetailPublic.model_validate(elder)


@router.patch(
    "/{elder_id}", response_model=ElderDetailPublic, responses=answers(400, 401, 403, 404, 422)
)
def update_elder(
    elder_id: RowId, body: ElderUpdate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> ElderDetailPublic:
    """Change an elder's record (family; doctors only care notes; admin); boxes hear of it."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return ElderDetailPublic.model_validate(
        elder_records.update_elder(rt, db, user, elder_id, changes)
    )


@router.get(
    "/{elder_id}/devices", response_model=list[DevicePublic], responses=answers(401, 404, 422)
)
def list_devices(
    elder_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> list[DevicePublic]:
    """The elder's TV boxes, revoked ones included, with whether each is online now."""
    elder = elder_for_viewing(db, user, elder_id)
    rows = db.scalars(select(Device).where(Device.elder_id == elder.id).order_by(Device.id))
    out = []
    for device in rows:
        public = DevicePublic.model_validate(device)
        live = {
            "online": rt.hub.device_connected(device.id),
            "last_seen_at": rt.presence.shown_last_seen(device.id, device.last_seen_at),
        }
        out.append(public.model_copy(update=live))
    return out


@router.get(
    "/{elder_id}/audit",
    response_model=list[AuditEntryPublic],
    responses=answers(401, 403, 404, 422),
)
def elder_audit(elder_id: RowId, user: CurrentUser, db: SessionDep) -> list[AuditEntryPublic]:
    """Who read or changed this elder's data (family and admins)."""
    elder = elder_for_viewing(db, user, elder_id)
    if user.role not in (Role.FAMILY, Role.ADMIN):
        raise Forbidden("only the elder's family or an administrator can read the audit log")
    rows = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.elder_id == elder.id)
        .order_by(AuditEntry.id.desc())
        .limit(200)
    )
    return [AuditEntryPublic.model_validate(r) for r in rows]

"""The daily check-in rule: the family sets a time; the elder's box keeps the rule and asks.

The rule is stored per elder and pushed to the elder's boxes when it changes and each time
a box connects, so a box that was off still gets it. The box does the asking (it knows
whether the remote or the voice was used); a missed check-in reaches the server as an SOS.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import CheckInRuleSet
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.ids import RowId
from server.models import CheckInRule, Device, User, utcnow
from server.permissions import elder_for_sos_action, elder_for_viewing
from server.runtime import Runtime
from server.ws.connection import Connection
from server.ws.dispatch import on_box_connected
from server.ws.threads import in_box_thread

router = APIRouter(tags=["sos"])
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"


class CheckInUpdate(BaseModel):
    """The daily check-in time in the elder's timezone, or null to switch it off."""

    model_config = {"extra": "forbid"}
    time_local: str | None = Field(default=None, pattern=TIME_PATTERN)


class CheckInPublic(BaseModel):
    elder_id: int
    time_local: str | None


def rule_of(db: Session, elder_id: int) -> CheckInRule | None:
    """The elder's check-in rule row (``local_time`` None when switched off), or None."""
    return db.get(CheckInRule, elder_id)


def set_rule(db: Session, user: User, elder_id: int, time_local: str | None) -> set[int]:
    """Store the rule (family, operators, admin); the elder's live device ids."""
    elder = elder_for_sos_action(db, user, elder_id)
    row = db.get(CheckInRule, elder.id)
    if row is None:
        db.add(CheckInRule(elder_id=elder.id, local_time=time_local, updated_by_id=user.id))
    else:
        row.local_time, row.updated_at, row.updated_by_id = time_local, utcnow(), user.id
    audit.record(db, "sos.check_in.set", elder.id, user=user, detail=time_local or "off")
    return set(
        db.scalars(
            select(Device.id).where(Device.elder_id == elder.id, Device.revoked_at.is_(None))
        )
    )


def push_rule(rt: Runtime, devices: set[int], time_local: str | None) -> None:
    """Tell the boxes (from any thread, never waits)."""

    async def send() -> None:
        for device_id in devices:
            await rt.hub.to_device(device_id, CheckInRuleSet(time_local=time_local))

    rt.hub.push(send())


@router.get(
    "/api/sos/check-in/{elder_id}", response_model=CheckInPublic, responses=answers(401, 404, 422)
)
def read_check_in(elder_id: RowId, user: CurrentUser, db: SessionDep) -> CheckInPublic:
    """The elder's daily check-in time."""
    elder = elder_for_viewing(db, user, elder_id)
    row = rule_of(db, elder.id)
    return CheckInPublic(elder_id=elder.id, time_local=row.local_time if row else None)


@router.put(
    "/api/sos/check-in/{elder_id}",
    response_model=CheckInPublic,
    responses=answers(400, 401, 403, 404, 422),
)
def update_check_in(
    elder_id: RowId, body: CheckInUpdate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> CheckInPublic:
    """Set or clear the daily check-in time; the elder's boxes hear of it at once."""
    devices = set_rule(db, user, elder_id, body.time_local)
    db.commit()
    push_rule(rt, devices, body.time_local)
    return CheckInPublic(elder_id=elder_id, time_local=body.time_local)


@on_box_connected
async def send_rule_on_connect(conn: Connection, rt: Runtime) -> None:
    """A box that connects gets the rule, if one was ever set (it may have been off then)."""
    elder_id = conn.elder_id
    assert elder_id is not None

    def lookup() -> CheckInRuleSet | None:
        # Every box runs this on connect (thousands after a restart): one primary-key read.
        with rt.db.session() as db:
            found = db.execute(
                select(CheckInRule.local_time).where(CheckInRule.elder_id == elder_id)
            ).one_or_none()
            return CheckInRuleSet(time_local=found[0]) if found is not None else None

    rule = await in_box_thread(lookup)
    if rule is not None:
        await conn.send(rule)

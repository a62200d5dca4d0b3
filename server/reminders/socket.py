"""The reminders feature on the box socket: dose answers, and the plans sent on connect."""

from __future__ import annotations

from sqlalchemy.orm import Session

from protocol import Ack, DoseAnswer, MedPlans, MedPlansRequest, Topic
from server.models import Device
from server.push import push_change
from server.reminders.doses import apply_answer
from server.reminders.plans import box_plans
from server.runtime import Runtime
from server.ws.connection import Connection


async def dose_answer(conn: Connection, rt: Runtime, message: DoseAnswer) -> None:
    """Store what the elder answered to a reminder; tell the pages; ack."""
    assert conn.device_id is not None
    duplicate, elder_id, users = await rt.threads.in_request_thread(
        apply_answer, rt, conn.device_id, message
    )
    if not duplicate and elder_id is not None:
        data = {"plan_id": message.plan_id, "outcome": message.outcome.value}
        await push_change(rt.hub, Topic.MEDICATION, elder_id, data, users)
    await conn.send(Ack(key=message.key, duplicate=duplicate, id=message.id))


def _plans_for_device(rt: Runtime, device_id: int) -> object:
    with rt.db.session() as db:
        device = db.get(Device, device_id)
        assert device is not None
        return box_plans(db, device.elder_id)


def plans_on_connect(db: Session, elder_id: int) -> MedPlans:
    """A box that connects gets the elder's plans (its state on connect; see ARCHITECTURE.md)."""
    return box_plans(db, elder_id)


async def plans_request(conn: Connection, rt: Runtime, message: MedPlansRequest) -> None:
    """Kept for boxes of before 0.2 that ask after each welcome; today's boxes are sent their
    plans on connect and never ask."""
    assert conn.device_id is not None
    plans = await rt.threads.in_request_thread(_plans_for_device, rt, conn.device_id)
    await conn.send(plans)  # type: ignore[arg-type]

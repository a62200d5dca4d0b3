"""Meals on the box socket: orders, changes, cancellations and skips made with the remote.

Each comes through the box's outbox with an idempotency ``key`` the server scopes to the
device (orders store it; a resent change, cancel or skip changes nothing the second time) and
is acked once handled. A refusal (``too_late`` naming the meal point's phone, ``sold_out``…)
is final: the box gets ``meal_refused`` with the words to show and say, then the ``ack`` —
nothing is dropped silently, nothing is resent forever. Every change reaches the elder's
pages and boxes and the point's staff (`server.meals.notices.announce_orders`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Ack, MealCancel, MealChange, MealOrder, MealRefused, MealSkip
from server import audit
from server.errors import AppError, Forbidden, NotFound
from server.meals import ordering
from server.meals.errors import TooLate
from server.meals.notices import announce_orders
from server.meals.standing import skip_day
from server.models import (
    Device,
    Elder,
    Meal,
    MealMode,
    MealOrderStatus,
    OrderedBy,
    StandingOrder,
    StandingSkip,
    utcnow,
)
from server.models import MealOrder as OrderRow
from server.runtime import Runtime
from server.ws.connection import Connection

# What one handled outbox item changed: (elder id, meal point ids, action) or None.
Done = tuple[int, list[int], str] | None


def _elder_of(db: Session, device_id: int) -> tuple[Device, Elder]:
    device = db.get(Device, device_id)
    assert device is not None
    elder = db.get(Elder, device.elder_id)
    assert elder is not None
    if not elder.is_active:
        raise Forbidden("the elder's service has ended")
    return device, elder


async def _handle(
    conn: Connection, rt: Runtime, key: str, work: Callable[[Session, Device, Elder], Done]
) -> None:
    """Run ``work`` off the loop in one transaction; announce, refuse, then ack ``key``."""
    assert conn.device_id is not None
    device_id = conn.device_id

    def run() -> Done:
        with rt.db.session() as db:
            device, elder = _elder_of(db, device_id)
            done = work(db, device, elder)
            db.commit()
            if done is not None:
                elder_id, points, action = done
                announce_orders(db, rt.hub, [elder_id], points, action)
            return done

    try:
        done = await rt.threads.in_request_thread(run)
    except AppError as err:
        phone = err.phone if isinstance(err, TooLate) else ""
        await conn.send(MealRefused(key=key, code=err.code, message=err.message[:300], phone=phone))
        await conn.send(Ack(key=key))
        return
    await conn.send(Ack(key=key, duplicate=done is None))


def _own_order(db: Session, elder: Elder, order_id: int) -> OrderRow:
    order = db.get(OrderRow, order_id)
    if order is None or order.elder_id != elder.id:
        raise NotFound(f"no meal order {order_id} of this elder")
    return order


async def order(conn: Connection, rt: Runtime, message: MealOrder) -> None:
    """The elder ordered a set meal with the remote (once, however often it is resent)."""

    def work(db: Session, device: Device, elder: Elder) -> Done:
        orderer = ordering.Orderer(
            OrderedBy.ELDER_BOX, f"device:{device.id}", elder.lang, device_id=device.id
        )
        row, created = ordering.place(
            db, orderer, elder, message.dish_id, MealMode(message.mode), message.key, utcnow()
        )
        if not created:
            return None
        audit.record(
            db, "meal_order.placed", elder.id, device=device, target=f"meal_order:{row.id}"
        )
        return elder.id, [row.service_point_id], "ordered"

    await _handle(conn, rt, message.key, work)


async def change(conn: Connection, rt: Runtime, message: MealChange) -> None:
    """Another set meal for one of the elder's orders, until the cut-off."""

    def work(db: Session, device: Device, elder: Elder) -> Done:
        row = _own_order(db, elder, message.order_id)
        if row.status is MealOrderStatus.ORDERED and row.dish_id == message.dish_id:
            return None  # already so (a resend)
        ordering.change(db, elder.lang, row, message.dish_id, None, utcnow())
        audit.record(
            db, "meal_order.changed", elder.id, device=device, target=f"meal_order:{row.id}"
        )
        return elder.id, [row.service_point_id], "changed"

    await _handle(conn, rt, message.key, work)


async def cancel(conn: Connection, rt: Runtime, message: MealCancel) -> None:
    """Cancel one of the elder's orders, until the cut-off."""

    def work(db: Session, device: Device, elder: Elder) -> Done:
        row = _own_order(db, elder, message.order_id)
        if row.live != 1:
            return None  # cancelled already (a resend after the cut-off too)
        if not ordering.cancel(db, elder.lang, row.id, utcnow()):
            return None  # cancelled already (a resend, or elsewhere)
        audit.record(
            db, "meal_order.cancelled", elder.id, device=device, target=f"meal_order:{row.id}"
        )
        return elder.id, [row.service_point_id], "cancelled"

    await _handle(conn, rt, message.key, work)


def _skipped(db: Session, elder_id: int, day: date, meal: Meal) -> bool:
    """Whether every active standing order of the elder's for that meal skips ``day``."""
    rows = list(
        db.scalars(
            select(StandingOrder.id).where(
                StandingOrder.elder_id == elder_id,
                StandingOrder.meal == meal,
                StandingOrder.is_active.is_(True),
            )
        )
    )
    if not rows:
        return False
    skipped = db.scalars(
        select(StandingSkip.standing_order_id).where(
            StandingSkip.standing_order_id.in_(rows), StandingSkip.day == day
        )
    )
    return set(skipped) == set(rows)


async def skip(conn: Connection, rt: Runtime, message: MealSkip) -> None:
    """Skip one day of the elder's standing order (cancelling its order if made)."""

    def work(db: Session, device: Device, elder: Elder) -> Done:
        meal = Meal(message.meal)
        if _skipped(db, elder.id, message.day, meal):
            return None  # skipped already (a resend after the cut-off too)
        skip_day(db, elder.lang, elder, message.day, meal, utcnow())
        audit.record(
            db, "meal_standing.skipped", elder.id, device=device, detail=message.day.isoformat()
        )
        return elder.id, [], "skipped"

    await _handle(conn, rt, message.key, work)

"""Standing orders ("lunch every weekday, the low-salt set"), skipping one day, and the sweep
that makes them into orders before each meal's cut-off.

The sweep looks `MATERIALISE_DAYS` ahead (in the point's zone): for every active standing
order and every day it covers with a published menu, no skip, no order of the elder's for
that meal and a cut-off still to come, it orders the set meal with the preferred tag that
fits the diet best (never one with an allergen), each in its own transaction. The order's
key (sender ``standing:<id>``, key ``<day>:<meal>``) makes it once only: an order the family
cancelled is not made again.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from protocol import Lang
from server.errors import AppError, NotFound
from server.meals.menus import dishes_of
from server.meals.notices import announce_orders
from server.meals.ordering import (
    Orderer,
    cancel,
    check_open,
    live_order,
    place,
    point_context,
)
from server.meals.rules import join, offer, split, weekdays
from server.meals.schemas import SkipPublic, StandingIn, StandingPublic
from server.models import (
    Elder,
    ElderDiet,
    Meal,
    MealMenu,
    OrderedBy,
    StandingOrder,
    StandingSkip,
    User,
    utcnow,
)
from server.runtime import Runtime

log = logging.getLogger(__name__)
MATERIALISE_DAYS = 2
SWEEP_SECONDS = 600.0


def standing_public(db: Session, row: StandingOrder, today: date) -> StandingPublic:
    """A standing order with the days skipped from ``today`` on."""
    skipped = db.scalars(
        select(StandingSkip.day)
        .where(StandingSkip.standing_order_id == row.id, StandingSkip.day >= today)
        .order_by(StandingSkip.day)
    )
    return StandingPublic(
        id=row.id,
        elder_id=row.elder_id,
        service_point_id=row.service_point_id,
        meal=row.meal,
        weekdays=weekdays(row.weekdays),
        tag=row.tag,
        mode=row.mode,
        is_active=row.is_active,
        skipped=list(skipped),
    )


def add_standing(db: Session, user: User, elder: Elder, body: StandingIn) -> StandingOrder:
    """A new standing order (one per elder and meal: an older one of that meal is ended)."""
    point_context(db, body.point_id)  # a meal point taking orders
    for old in db.scalars(
        select(StandingOrder).where(
            StandingOrder.elder_id == elder.id,
            StandingOrder.meal == body.meal,
            StandingOrder.is_active.is_(True),
        )
    ):
        old.is_active = False
    row = StandingOrder(
        elder_id=elder.id,
        service_point_id=body.point_id,
        meal=body.meal,
        weekdays=join(str(d) for d in body.weekdays),
        tag=body.tag.value if body.tag else "",
        mode=body.mode,
        is_active=True,
        created_by=user.id,
        created_at=utcnow(),
    )
    db.add(row)
    db.flush()
    return row


def skip_day(
    db: Session, lang: Lang, elder: Elder, day: date, meal: Meal, now: datetime
) -> SkipPublic:
    """Skip ``day``'s ``meal`` of the elder's standing orders, cancelling an order already
    made from one (until the cut-off: `TooLate` after)."""
    rows = [
        s
        for s in db.scalars(
            select(StandingOrder).where(
                StandingOrder.elder_id == elder.id,
                StandingOrder.meal == meal,
                StandingOrder.is_active.is_(True),
            )
        )
        if day.weekday() in weekdays(s.weekdays)
    ]
    if not rows:
        raise NotFound(f"no standing order for {meal.value} on {day.isoformat()}")
    cancelled = None
    order = live_order(db, elder.id, day, meal)
    if order is not None and order.standing_order_id in {s.id for s in rows}:
        cancel(db, lang, order.id, now)
        cancelled = order.id
    else:  # nothing made yet: still refuse after the cut-off, like a cancellation would
        check_open(db, lang, point_context(db, rows[0].service_point_id), day, meal, now)
    for s in rows:
        db.execute(
            delete(StandingSkip).where(
                StandingSkip.standing_order_id == s.id, StandingSkip.day == day
            )
        )
        db.add(StandingSkip(standing_order_id=s.id, day=day))
    db.flush()
    return SkipPublic(day=day, meal=meal, standing_orders=len(rows), cancelled_order_id=cancelled)


def due(db: Session, now: datetime) -> list[tuple[int, int, date]]:
    """(standing order id, dish id, day) of the orders the sweep should make now."""
    out = []
    for s in db.scalars(select(StandingOrder).where(StandingOrder.is_active.is_(True))):
        try:
            ctx = point_context(db, s.service_point_id)
        except NotFound:
            continue
        today = now.astimezone(ctx.zone).date()
        elder = db.get(Elder, s.elder_id)
        if elder is None or not elder.is_active:
            continue
        diet = db.get(ElderDiet, elder.id)
        for ahead in range(MATERIALISE_DAYS + 1):
            day = today + timedelta(days=ahead)
            if day.weekday() not in weekdays(s.weekdays):
                continue
            skipped = db.get(StandingSkip, (s.id, day))
            if skipped is not None or live_order(db, elder.id, day, s.meal) is not None:
                continue
            menu = db.scalar(
                select(MealMenu).where(
                    MealMenu.service_point_id == s.service_point_id,
                    MealMenu.day == day,
                    MealMenu.meal == s.meal,
                )
            )
            if menu is None:
                continue
            choices = offer(dishes_of(db, menu.id), diet)
            if s.tag:
                choices.sort(key=lambda c: s.tag not in split(c[0].tags))
            if choices:
                out.append((s.id, choices[0][0].id, day))
    return out


def make_one(db: Session, standing_id: int, dish_id: int, day: date, now: datetime) -> bool:
    """Order one day of a standing order; False when it could not be (too late, sold out…)."""
    s = db.get(StandingOrder, standing_id)
    elder = db.get(Elder, s.elder_id) if s is not None else None
    if s is None or elder is None:
        return False
    orderer = Orderer(OrderedBy.STANDING, f"standing:{s.id}", elder.lang, standing_order_id=s.id)
    _, created = place(
        db, orderer, elder, dish_id, s.mode, f"{day.isoformat()}:{s.meal.value}", now
    )
    return created


def materialise_standing(rt: Runtime) -> str | None:
    """The sweep: make the standing orders due into orders (see the module)."""
    now = utcnow()
    with rt.db.session() as db:
        todo = due(db, now)
    made = failed = 0
    elders: set[int] = set()
    points: set[int] = set()
    for standing_id, dish_id, day in todo:
        try:
            with rt.db.session() as db:
                if make_one(db, standing_id, dish_id, day, now):
                    made += 1
                    s = db.get(StandingOrder, standing_id)
                    if s is not None:
                        elders.add(s.elder_id)
                        points.add(s.service_point_id)
        except AppError as err:  # sold out, too late, an allergen added since: not this day
            failed += 1
            log.info("standing order %s for %s not made: %s", standing_id, day, err.code)
    if made:
        with rt.db.session() as db:
            announce_orders(db, rt.hub, elders, points, "ordered")
    if not (made or failed):
        return None
    return f"{made} standing meal orders made, {failed} not possible"

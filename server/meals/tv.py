"""The elder's meals as their TV box gets them (`protocol.Meals`): on connect, and at once
after every change, whoever made it (family page, meal point staff, a published menu, the
box itself). The paired box speaks only over its socket, so the list is pushed whole rather
than re-read over HTTP (``GET /api/box/meals`` stays for other clients)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import MAX_SET_MEALS, MealDishInfo, MealOfferInfo, MealOrderInfo, Meals
from server.errors import NotFound
from server.meals.offers import OrderViews, elder_offer
from server.meals.ordering import point_context
from server.meals.rules import point_zone, weekdays
from server.models import (
    Elder,
    Meal,
    MealMode,
    MealOrder,
    ServiceArea,
    StandingOrder,
    StandingSkip,
    utcnow,
)


def elder_today(db: Session, elder: Elder) -> date:
    """Today where the elder lives (their area's zone)."""
    area = db.get(ServiceArea, elder.service_area_id) if elder.service_area_id else None
    return utcnow().astimezone(point_zone(area)).date()


def standing_covers(db: Session, elder_id: int, day: date, meal: Meal) -> bool:
    """Whether an active standing order of the elder's makes ``day``'s ``meal`` (not skipped)."""
    for row in db.scalars(
        select(StandingOrder).where(
            StandingOrder.elder_id == elder_id,
            StandingOrder.meal == meal,
            StandingOrder.is_active.is_(True),
        )
    ):
        if day.weekday() not in weekdays(row.weekdays):
            continue
        skipped = db.scalar(
            select(StandingSkip.day).where(
                StandingSkip.standing_order_id == row.id, StandingSkip.day == day
            )
        )
        if skipped is None:
            return True
    return False


def box_meals(db: Session, elder: Elder) -> Meals:
    """Today's and tomorrow's live orders and tomorrow's lunch offer, in the elder's words."""
    today = elder_today(db, elder)
    tomorrow = today + timedelta(days=1)
    rows = db.scalars(
        select(MealOrder)
        .where(
            MealOrder.elder_id == elder.id,
            MealOrder.day >= today,
            MealOrder.day <= tomorrow,
            MealOrder.live == 1,
        )
        .order_by(MealOrder.day, MealOrder.meal.desc())
        .limit(8)
    )
    views = OrderViews(db, elder.lang)
    orders = []
    for row in rows:
        public = views.one(row)
        orders.append(
            MealOrderInfo(
                id=public.id,
                day=public.day,
                meal=public.meal.value,
                dish_name=public.dish_name[:120],
                mode=public.mode.value,
                payable_cents=public.payable_cents,
                window_start=public.window_start,
                window_end=public.window_end,
                cutoff_at=public.cutoff_at,
                standing=public.standing_order_id is not None,
            )
        )
    offer = elder_offer(db, elder, tomorrow, Meal.LUNCH, elder.lang)
    zone_name = "Asia/Shanghai"
    info = MealOfferInfo(day=tomorrow, standing=standing_covers(db, elder.id, tomorrow, Meal.LUNCH))
    if offer.point is not None:
        try:
            ctx = point_context(db, offer.point.id)
        except NotFound:
            ctx = None
        if ctx is not None:
            zone_name = ctx.zone.key
            delivers = MealMode.DELIVERY in offer.point.modes
            info = info.model_copy(
                update={
                    "point_name": ctx.point.name[:120],
                    "point_phone": ctx.settings.phone[:40],
                    "mode": (MealMode.DELIVERY if delivers else MealMode.DINE_IN).value,
                    "cutoff_at": offer.cutoff_at,
                    "open": offer.open,
                    "sold_out": offer.sold_out,
                    "window_start": offer.window_start or "",
                    "window_end": offer.window_end or "",
                    "dishes": [
                        MealDishInfo(
                            dish_id=d.id,
                            name=d.name[:120],
                            payable_cents=d.payable_cents,
                            fits_diet=d.fits_diet,
                        )
                        for d in offer.dishes[:MAX_SET_MEALS]
                    ],
                }
            )
    return Meals(elder_id=elder.id, timezone=zone_name, orders=orders, offer=info)


def meals_on_connect(db: Session, elder_id: int) -> Meals | None:
    """A box that connects gets the elder's meals (its state on connect); nothing for an
    elder no meal point serves and who never ordered (the box then shows "no meal point")."""
    elder = db.get(Elder, elder_id)
    if elder is None or not elder.is_active:
        return None
    meals = box_meals(db, elder)
    if not meals.orders and (meals.offer is None or not meals.offer.point_name):
        return None
    return meals

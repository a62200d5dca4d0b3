"""The TV box's meals over the API, with its device token: what is ordered for today and
tomorrow and tomorrow's offer, ordering (a key scoped to the box: an outbox retry is stored
once), cancelling and skipping a standing order's day. A refusal (``too_late`` with the meal
point's phone, ``sold_out``) is a 409 the box shows and says."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import select

from server import audit
from server.accounts import elder_of
from server.api.deps import CurrentDevice, RuntimeDep, SessionDep
from server.api.responses import answers
from server.errors import Forbidden, NotFound
from server.ids import RowId
from server.meals import ordering
from server.meals.notices import announce_orders
from server.meals.offers import OrderViews, elder_offer
from server.meals.routes_elders import elder_today
from server.meals.schemas import BoxOrderIn, OfferPublic, OrderPublic, SkipIn, SkipPublic
from server.meals.standing import skip_day
from server.models import Elder, Meal, MealOrder, OrderedBy, utcnow

router = APIRouter(prefix="/api/box/meals", tags=["meals", "box"])


class BoxMealsPublic(BaseModel):
    """What the Meals tile shows: orders of today and tomorrow, and tomorrow's lunch offer."""

    orders: list[OrderPublic]
    offer: OfferPublic


def box_meals(db: SessionDep, elder: Elder) -> BoxMealsPublic:
    """The box's meals view of ``elder`` (also what a box re-reads on ``changed``/``meal``)."""
    today = elder_today(db, elder)
    rows = db.scalars(
        select(MealOrder)
        .where(
            MealOrder.elder_id == elder.id,
            MealOrder.day >= today,
            MealOrder.day <= today + timedelta(days=1),
            MealOrder.live == 1,
        )
        .order_by(MealOrder.day, MealOrder.meal.desc())
    )
    views = OrderViews(db, elder.lang)
    return BoxMealsPublic(
        orders=[views.one(o) for o in rows],
        offer=elder_offer(db, elder, today + timedelta(days=1), Meal.LUNCH, elder.lang),
    )


def _elder(db: SessionDep, device: CurrentDevice) -> Elder:
    elder = elder_of(db, device)
    if not elder.is_active:
        raise Forbidden("the elder's service has ended")
    return elder


@router.get("", response_model=BoxMealsPublic, responses=answers(401, 403))
def read_box_meals(device: CurrentDevice, db: SessionDep) -> BoxMealsPublic:
    """Today's and tomorrow's orders, and tomorrow's lunch offer, in the elder's language."""
    return box_meals(db, _elder(db, device))


@router.post(
    "/orders",
    response_model=OrderPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def box_order(
    body: BoxOrderIn, device: CurrentDevice, db: SessionDep, rt: RuntimeDep, response: Response
) -> OrderPublic:
    """The elder orders with the remote (201); the same key from this box again returns the
    first order (200), however many times the outbox retries it."""
    elder = _elder(db, device)
    orderer = ordering.Orderer(
        OrderedBy.ELDER_BOX, f"device:{device.id}", elder.lang, device_id=device.id
    )
    order, created = ordering.place(
        db, orderer, elder, body.dish_id, body.mode, body.idempotency_key, utcnow()
    )
    out = OrderViews(db, elder.lang).one(order)
    if not created:
        response.status_code = 200
        return out
    audit.record(db, "meal_order.placed", elder.id, device=device, target=f"meal_order:{order.id}")
    db.commit()
    announce_orders(db, rt.hub, [elder.id], [order.service_point_id], "ordered")
    return out


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderPublic,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def box_cancel(
    order_id: RowId, device: CurrentDevice, db: SessionDep, rt: RuntimeDep
) -> OrderPublic:
    """Cancel one of the elder's orders until the cut-off (409 ``too_late`` after it)."""
    elder = _elder(db, device)
    order = db.get(MealOrder, order_id)
    if order is None or order.elder_id != elder.id:
        raise NotFound(f"no meal order {order_id} of this elder")
    if ordering.cancel(db, elder.lang, order.id, utcnow()):
        audit.record(
            db, "meal_order.cancelled", elder.id, device=device, target=f"meal_order:{order.id}"
        )
        db.commit()
        announce_orders(db, rt.hub, [elder.id], [order.service_point_id], "cancelled")
    db.refresh(order)
    return OrderViews(db, elder.lang).one(order)


@router.post("/skips", response_model=SkipPublic, responses=answers(400, 401, 403, 404, 409, 422))
def box_skip(body: SkipIn, device: CurrentDevice, db: SessionDep, rt: RuntimeDep) -> SkipPublic:
    """The elder skips one day of their standing order from the TV."""
    elder = _elder(db, device)
    done = skip_day(db, elder.lang, elder, body.day, body.meal, utcnow())
    audit.record(db, "meal_standing.skipped", elder.id, device=device, detail=body.day.isoformat())
    db.commit()
    announce_orders(db, rt.hub, [elder.id], [], "skipped")
    return done

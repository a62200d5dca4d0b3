"""An elder's meals over the API: diet and allergies, the meal points near them, the offer of
a day, orders (family and operators), standing orders and skips, subsidy categories, and the
monthly statement.

Every change of an elder's orders is pushed (``changed``, topic ``meal``) to everyone who may
see the elder, to their boxes and to the meal point's staff, once committed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import delete, select

from protocol import Lang, Role
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.errors import Forbidden, InvalidInput, NotFound
from server.ids import RowId
from server.meals import ordering
from server.meals.access import (
    elder_for_diet,
    elder_for_subsidies,
    family_for,
    order_for,
    orderer_for,
)
from server.meals.billing import statement
from server.meals.notices import announce_orders
from server.meals.offers import OrderViews, elder_offer, points_for
from server.meals.rules import join, point_zone, split
from server.meals.schemas import (
    CategoryPublic,
    Day,
    DietIn,
    DietPublic,
    ElderCategoriesIn,
    Month,
    NearPointPublic,
    OfferPublic,
    OrderIn,
    OrderPublic,
    OrderUpdate,
    PreferredPointIn,
    SkipIn,
    SkipPublic,
    StandingIn,
    StandingPublic,
    StatementPublic,
)
from server.meals.standing import add_standing, skip_day, standing_public
from server.models import (
    Elder,
    ElderDiet,
    ElderSubsidy,
    Meal,
    MealOrder,
    ServiceArea,
    StandingOrder,
    SubsidyCategory,
    utcnow,
)
from server.permissions import elder_for_viewing

router = APIRouter(prefix="/api/meals", tags=["meals"])
ORDER_DAYS = 62  # the longest span of orders one read returns


def _diet_public(elder_id: int, diet: ElderDiet | None) -> DietPublic:
    return DietPublic(
        elder_id=elder_id,
        diabetic=bool(diet and diet.diabetic),
        low_salt=bool(diet and diet.low_salt),
        soft=bool(diet and diet.soft),
        vegetarian=bool(diet and diet.vegetarian),
        allergens=split(diet.allergens) if diet else [],
        preferred_point_id=diet.preferred_point_id if diet else None,
    )


def diet_row(db: SessionDep, elder_id: int) -> ElderDiet:
    """The elder's diet row, made empty if there is none yet."""
    diet = db.get(ElderDiet, elder_id)
    if diet is None:
        diet = ElderDiet(elder_id=elder_id, allergens="")
        db.add(diet)
    return diet


def elder_today(db: SessionDep, elder: Elder) -> date:
    """Today where the elder lives (their area's zone)."""
    area = db.get(ServiceArea, elder.service_area_id) if elder.service_area_id else None
    return utcnow().astimezone(point_zone(area)).date()


@router.get("/elders/{elder_id}/diet", response_model=DietPublic, responses=answers(401, 404, 422))
def read_diet(elder_id: RowId, user: CurrentUser, db: SessionDep) -> DietPublic:
    """The elder's diet, allergies and preferred meal point."""
    elder = elder_for_viewing(db, user, elder_id)
    return _diet_public(elder.id, db.get(ElderDiet, elder.id))


@router.put(
    "/elders/{elder_id}/diet", response_model=DietPublic, responses=answers(400, 401, 403, 404, 422)
)
def update_diet(
    elder_id: RowId, body: DietIn, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> DietPublic:
    """Set the elder's diet and allergies (family, the elder's doctor, administrators)."""
    elder = elder_for_diet(db, user, elder_id)
    diet = diet_row(db, elder.id)
    diet.diabetic, diet.low_salt = body.diabetic, body.low_salt
    diet.soft, diet.vegetarian = body.soft, body.vegetarian
    diet.allergens = join(body.allergens)
    diet.updated_by, diet.updated_at = user.id, utcnow()
    audit.record(db, "meal_diet.updated", elder.id, user=user)
    db.commit()
    announce_orders(db, rt.hub, [elder.id], [], "diet")
    return _diet_public(elder.id, diet)


@router.put(
    "/elders/{elder_id}/preferred-point",
    response_model=DietPublic,
    responses=answers(400, 401, 403, 404, 422),
)
def update_preferred_point(
    elder_id: RowId, body: PreferredPointIn, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> DietPublic:
    """Fix the elder's meal point (family, area operators, admins); null: the nearest."""
    elder = family_for(db, user, elder_id)
    if body.point_id is not None:
        ordering.point_context(db, body.point_id)  # a meal point taking orders
    diet = diet_row(db, elder.id)
    diet.preferred_point_id = body.point_id
    diet.updated_by, diet.updated_at = user.id, utcnow()
    audit.record(db, "meal_point.preferred", elder.id, user=user)
    db.commit()
    # The TV and the open pages offer the chosen point's menu at once.
    announce_orders(db, rt.hub, [elder.id], [], "preferred_point")
    return _diet_public(elder.id, diet)


@router.get(
    "/elders/{elder_id}/points",
    response_model=list[NearPointPublic],
    responses=answers(401, 404, 422),
)
def list_points(elder_id: RowId, user: CurrentUser, db: SessionDep) -> list[NearPointPublic]:
    """Meal points serving the elder: the preferred one, then the nearest (delivery within a
    point's radius, eating there within a kilometre's walk)."""
    elder = elder_for_viewing(db, user, elder_id)
    return points_for(db, elder)


@router.get(
    "/elders/{elder_id}/offer", response_model=OfferPublic, responses=answers(401, 404, 422)
)
def read_offer(
    elder_id: RowId,
    user: CurrentUser,
    db: SessionDep,
    day: Annotated[Day | None, Query(description="default tomorrow")] = None,
    meal: Meal = Meal.LUNCH,
) -> OfferPublic:
    """The set meals the elder may order: fitting the diet first, never one with an allergen
    of theirs, with the price to pay after the subsidy."""
    elder = elder_for_viewing(db, user, elder_id)
    return elder_offer(
        db, elder, day or elder_today(db, elder) + timedelta(days=1), meal, user.lang
    )


@router.get(
    "/elders/{elder_id}/orders",
    response_model=list[OrderPublic],
    responses=answers(401, 404, 422),
)
def list_orders(
    elder_id: RowId,
    user: CurrentUser,
    db: SessionDep,
    start: Annotated[Day | None, Query(alias="from", description="default today")] = None,
    days: Annotated[int, Query(ge=1, le=ORDER_DAYS)] = 14,
) -> list[OrderPublic]:
    """The elder's orders from ``from`` for ``days`` days, cancelled ones too."""
    elder = elder_for_viewing(db, user, elder_id)
    first = start or elder_today(db, elder)
    rows = db.scalars(
        select(MealOrder)
        .where(
            MealOrder.elder_id == elder.id,
            MealOrder.day >= first,
            MealOrder.day < first + timedelta(days=days),
        )
        .order_by(MealOrder.day, MealOrder.meal.desc(), MealOrder.id)
    )
    views = OrderViews(db, user.lang)
    return [views.one(o) for o in rows]


@router.get(
    "/elders/{elder_id}/statement",
    response_model=StatementPublic,
    responses=answers(401, 404, 422),
)
def read_statement(
    elder_id: RowId, month: Annotated[Month, Query()], user: CurrentUser, db: SessionDep
) -> StatementPublic:
    """The month's meals, subsidies and what is to pay (``month`` as YYYY-MM)."""
    elder = elder_for_viewing(db, user, elder_id)
    audit.record(db, "meal_statement.read", elder.id, user=user)
    return statement(db, elder, month, user.lang)


# -- ordering -----------------------------------------------------------------------------


@router.post(
    "/orders",
    response_model=OrderPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def create_order(
    body: OrderIn, user: CurrentUser, db: SessionDep, rt: RuntimeDep, response: Response
) -> OrderPublic:
    """Order a set meal for the elder (201); the same key again returns the first order (200).

    409 ``too_late`` (naming the meal point's phone), ``sold_out``, ``conflict`` (the elder has
    that meal ordered already); 422 for an allergen, a mode not offered, too far to deliver."""
    elder, orderer = orderer_for(db, user, body.elder_id)
    order, created = ordering.place(
        db, orderer, elder, body.dish_id, body.mode, body.idempotency_key, utcnow()
    )
    if not created:
        response.status_code = 200
        return OrderViews(db, user.lang).one(order)
    audit.record(db, "meal_order.placed", elder.id, user=user, target=f"meal_order:{order.id}")
    out = OrderViews(db, user.lang).one(order)
    db.commit()
    announce_orders(db, rt.hub, [elder.id], [order.service_point_id], "ordered")
    return out


@router.get("/orders/{order_id}", response_model=OrderPublic, responses=answers(401, 404, 422))
def read_order(order_id: RowId, user: CurrentUser, db: SessionDep) -> OrderPublic:
    """One order (the elder's viewers; its own meal point's staff)."""
    return OrderViews(db, user.lang).one(order_for(db, user, order_id))


def _order_to_change(db: SessionDep, user: CurrentUser, order_id: int) -> MealOrder:
    order = order_for(db, user, order_id)
    if user.role not in (Role.FAMILY, Role.OPERATOR, Role.ADMIN):
        raise Forbidden("only the elder's family or the care centre can change meal orders")
    return order


@router.patch(
    "/orders/{order_id}",
    response_model=OrderPublic,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def update_order(
    order_id: RowId, body: OrderUpdate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> OrderPublic:
    """Another set meal of the same menu, or another mode, until the cut-off (409
    ``too_late`` after it)."""
    order = _order_to_change(db, user, order_id)
    ordering.change(db, user.lang, order, body.dish_id, body.mode, utcnow())
    audit.record(
        db, "meal_order.changed", order.elder_id, user=user, target=f"meal_order:{order.id}"
    )
    out = OrderViews(db, user.lang).one(order)
    db.commit()
    announce_orders(db, rt.hub, [order.elder_id], [order.service_point_id], "changed")
    return out


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderPublic,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def cancel_order(order_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep) -> OrderPublic:
    """Cancel an order until the cut-off (409 ``too_late`` after it); cancelling it again
    changes nothing."""
    order = _order_to_change(db, user, order_id)
    if ordering.cancel(db, user.lang, order.id, utcnow()):
        audit.record(
            db, "meal_order.cancelled", order.elder_id, user=user, target=f"meal_order:{order.id}"
        )
        db.commit()
        announce_orders(db, rt.hub, [order.elder_id], [order.service_point_id], "cancelled")
    db.refresh(order)
    return OrderViews(db, user.lang).one(order)


# -- standing orders ----------------------------------------------------------------------


@router.get(
    "/elders/{elder_id}/standing-orders",
    response_model=list[StandingPublic],
    responses=answers(401, 404, 422),
)
def list_standing(elder_id: RowId, user: CurrentUser, db: SessionDep) -> list[StandingPublic]:
    """The elder's active standing orders and the days skipped."""
    elder = elder_for_viewing(db, user, elder_id)
    rows = db.scalars(
        select(StandingOrder)
        .where(StandingOrder.elder_id == elder.id, StandingOrder.is_active.is_(True))
        .order_by(StandingOrder.id)
    )
    today = elder_today(db, elder)
    return [standing_public(db, r, today) for r in rows]


@router.post(
    "/elders/{elder_id}/standing-orders",
    response_model=StandingPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 422),
)
def create_standing(
    elder_id: RowId, body: StandingIn, user: CurrentUser, db: SessionDep
) -> StandingPublic:
    """A standing order (family, area operators, admins); it replaces one of the same meal."""
    elder = family_for(db, user, elder_id)
    row = add_standing(db, user, elder, body)
    audit.record(db, "meal_standing.created", elder.id, user=user, target=f"standing:{row.id}")
    return standing_public(db, row, elder_today(db, elder))


@router.delete(
    "/standing-orders/{standing_id}", status_code=204, responses=answers(401, 403, 404, 422)
)
def end_standing(standing_id: RowId, user: CurrentUser, db: SessionDep) -> Response:
    """End a standing order (orders already made stay)."""
    row = db.get(StandingOrder, standing_id)
    if row is None:
        raise NotFound(f"no standing order {standing_id}")
    try:
        family_for(db, user, row.elder_id)
    except NotFound:
        raise NotFound(f"no standing order {standing_id}") from None
    row.is_active = False
    audit.record(db, "meal_standing.ended", row.elder_id, user=user, target=f"standing:{row.id}")
    return Response(status_code=204)


@router.post(
    "/elders/{elder_id}/skips",
    response_model=SkipPublic,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def skip(
    elder_id: RowId, body: SkipIn, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> SkipPublic:
    """Skip one day of the elder's standing order (409 ``too_late`` after the cut-off)."""
    elder = family_for(db, user, elder_id)
    done = skip_day(db, user.lang, elder, body.day, body.meal, utcnow())
    audit.record(db, "meal_standing.skipped", elder.id, user=user, detail=body.day.isoformat())
    db.commit()
    announce_orders(db, rt.hub, [elder.id], [], "skipped")
    return done


# -- subsidy categories of an elder --------------------------------------------------------


def category_public(row: SubsidyCategory, lang: Lang) -> CategoryPublic:
    """A subsidy category as the API shows it; ``name`` in ``lang``."""
    return CategoryPublic(
        id=row.id,
        service_area_id=row.service_area_id,
        code=row.code,
        name=row.name_zh if lang is Lang.ZH else row.name_en,
        name_zh=row.name_zh,
        name_en=row.name_en,
        amount_cents=row.amount_cents,
        percent=row.percent,
        is_active=row.is_active,
    )


@router.get(
    "/elders/{elder_id}/subsidies",
    response_model=list[CategoryPublic],
    responses=answers(401, 404, 422),
)
def read_elder_subsidies(
    elder_id: RowId, user: CurrentUser, db: SessionDep
) -> list[CategoryPublic]:
    """The elder's subsidy categories."""
    elder = elder_for_viewing(db, user, elder_id)
    return [category_public(c, user.lang) for c in ordering.categories_of(db, elder)]


@router.put(
    "/elders/{elder_id}/subsidies",
    response_model=list[CategoryPublic],
    responses=answers(400, 401, 403, 404, 422),
)
def update_elder_subsidies(
    elder_id: RowId, body: ElderCategoriesIn, user: CurrentUser, db: SessionDep
) -> list[CategoryPublic]:
    """Set the elder's subsidy categories, whole (the area's operators, administrators).
    Orders already made keep their subsidy."""
    elder = elder_for_subsidies(db, user, elder_id)
    wanted = set(body.category_ids)
    found = set(
        db.scalars(
            select(SubsidyCategory.id).where(
                SubsidyCategory.id.in_(wanted or {-1}),
                SubsidyCategory.service_area_id == elder.service_area_id,
            )
        )
    )
    if found != wanted:
        err = InvalidInput(f"not categories of the elder's area: {sorted(wanted - found)}")
        err.field = "category_ids"
        raise err
    db.execute(delete(ElderSubsidy).where(ElderSubsidy.elder_id == elder.id))
    db.add_all(ElderSubsidy(elder_id=elder.id, category_id=c) for c in sorted(wanted))
    audit.record(
        db, "meal_subsidies.set", elder.id, user=user, detail=",".join(map(str, sorted(wanted)))
    )
    db.flush()
    return [category_public(c, user.lang) for c in ordering.categories_of(db, elder)]

"""Meal points over the API: settings, menus (and copying last week's), the kitchen's
production sheet and delivery list (JSON and CSV), and handing meals over.

Staff pages hear of every change (``changed``, topic ``meal``) once it is committed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from protocol import Role
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.errors import Forbidden, NotFound
from server.ids import RowId
from server.meals.access import is_point_staff, meal_point, order_for, point_for_kitchen
from server.meals.kitchen import (
    delivery_csv,
    delivery_list,
    hand_over,
    production_csv,
    production_sheet,
)
from server.meals.menus import copy_week, menu_public, point_public, publish, save_settings
from server.meals.notices import announce_menu, announce_orders
from server.meals.ordering import point_context
from server.meals.schemas import (
    CopyWeekIn,
    CopyWeekPublic,
    Day,
    DeliveryList,
    HandoverIn,
    MenuIn,
    MenuPublic,
    PointPublic,
    PointSettingsIn,
    ProductionSheet,
)
from server.models import Meal, MealMenu, MealOrderStatus, utcnow
from server.outgoing import deliver

router = APIRouter(prefix="/api/meals", tags=["meals"])
MENU_DAYS = 31  # the longest span of menus one read returns


@router.get("/points/{point_id}", response_model=PointPublic, responses=answers(401, 404, 422))
def read_point(point_id: RowId, user: CurrentUser, db: SessionDep) -> PointPublic:
    """A meal point and how it serves (anyone logged in: families choose a point)."""
    meal_point(db, point_id)
    return point_public(db, point_id)


@router.put(
    "/points/{point_id}/settings",
    response_model=PointPublic,
    responses=answers(400, 401, 403, 404, 422),
)
def update_point(
    point_id: RowId, body: PointSettingsIn, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> PointPublic:
    """Set the meals the point serves, cut-offs, portions, modes and delivery radius (its
    staff, the area's operators, administrators). The TVs and pages it serves hear the new
    cut-off and serving times at once."""
    point = point_for_kitchen(db, user, point_id, operators=True)
    save_settings(db, point, body)
    audit.record(db, "meal_point.settings", None, user=user, target=f"service_point:{point.id}")
    out = point_public(db, point.id)
    db.commit()
    announce_menu(db, rt.hub, point.id, "settings")
    return out


@router.get(
    "/points/{point_id}/menus",
    response_model=list[MenuPublic],
    responses=answers(401, 404, 422),
)
def list_menus(
    point_id: RowId,
    user: CurrentUser,
    db: SessionDep,
    start: Annotated[Day | None, Query(alias="from", description="default today")] = None,
    days: Annotated[int, Query(ge=1, le=MENU_DAYS)] = 7,
) -> list[MenuPublic]:
    """The point's menus from ``from`` for ``days`` days (anyone logged in)."""
    meal_point(db, point_id)
    ctx = point_context(db, point_id)
    first = start or utcnow().astimezone(ctx.zone).date()
    rows = db.scalars(
        select(MealMenu)
        .where(
            MealMenu.service_point_id == point_id,
            MealMenu.day >= first,
            MealMenu.day < first + timedelta(days=days),
        )
        .order_by(MealMenu.day, MealMenu.meal.desc())
    )
    return [menu_public(db, ctx, m, user.lang) for m in rows]


@router.post(
    "/points/{point_id}/menus",
    response_model=MenuPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def publish_menu(
    point_id: RowId, body: MenuIn, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> MenuPublic:
    """Publish (or replace, while nothing is ordered from it) the menu of a day and meal."""
    point_for_kitchen(db, user, point_id)
    ctx = point_context(db, point_id)
    menu = publish(db, user, ctx, body)
    audit.record(db, "meal_menu.published", None, user=user, target=f"meal_menu:{menu.id}")
    out = menu_public(db, ctx, menu, user.lang)
    db.commit()
    announce_menu(db, rt.hub, point_id, "menu")
    return out


@router.post(
    "/points/{point_id}/menus/copy-week",
    response_model=CopyWeekPublic,
    responses=answers(400, 401, 403, 404, 422),
)
def copy_last_week(
    point_id: RowId, body: CopyWeekIn, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> CopyWeekPublic:
    """Copy the menus of the week from ``from_monday`` to the week after (days that have a
    menu keep it)."""
    point_for_kitchen(db, user, point_id)
    monday = body.from_monday - timedelta(days=body.from_monday.weekday())
    copied, kept = copy_week(db, user, point_context(db, point_id), monday)
    db.commit()
    if copied:
        announce_menu(db, rt.hub, point_id, "menu")
    return CopyWeekPublic(copied=copied, kept=kept)


DayQuery = Annotated[Day, Query(description="the meal's day")]


@router.get(
    "/points/{point_id}/production",
    response_model=ProductionSheet,
    responses=answers(401, 403, 404, 422),
)
def read_production(
    point_id: RowId, day: DayQuery, user: CurrentUser, db: SessionDep, meal: Meal = Meal.LUNCH
) -> ProductionSheet:
    """Portions per set meal for a day and meal, with diet and allergen counts."""
    point_for_kitchen(db, user, point_id, operators=True)
    return production_sheet(db, point_id, day, meal)


@router.get(
    "/points/{point_id}/production.csv",
    response_class=Response,
    responses={**answers(401, 403, 404, 422), 200: {"content": {"text/csv": {}}}},
)
def production_as_csv(
    point_id: RowId, day: DayQuery, user: CurrentUser, db: SessionDep, meal: Meal = Meal.LUNCH
) -> Response:
    """The production sheet as CSV."""
    point_for_kitchen(db, user, point_id, operators=True)
    body = production_csv(production_sheet(db, point_id, day, meal))
    return _csv(body, f"production-{point_id}-{day.isoformat()}-{meal.value}.csv")


@router.get(
    "/points/{point_id}/deliveries",
    response_model=DeliveryList,
    responses=answers(401, 403, 404, 422),
)
def read_deliveries(
    point_id: RowId, day: DayQuery, user: CurrentUser, db: SessionDep, meal: Meal = Meal.LUNCH
) -> DeliveryList:
    """The meals to hand over, grouped by route and sorted by address (the point's staff)."""
    point_for_kitchen(db, user, point_id)
    return delivery_list(db, point_id, day, meal, user.lang)


@router.get(
    "/points/{point_id}/deliveries.csv",
    response_class=Response,
    responses={**answers(401, 403, 404, 422), 200: {"content": {"text/csv": {}}}},
)
def deliveries_as_csv(
    point_id: RowId, day: DayQuery, user: CurrentUser, db: SessionDep, meal: Meal = Meal.LUNCH
) -> Response:
    """The delivery list as CSV."""
    point_for_kitchen(db, user, point_id)
    body = delivery_csv(delivery_list(db, point_id, day, meal, user.lang))
    return _csv(body, f"deliveries-{point_id}-{day.isoformat()}-{meal.value}.csv")


def _csv(body: str, name: str) -> Response:
    return Response(
        "\ufeff" + body,  # a BOM: spreadsheets then read the Chinese names right
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/orders/{order_id}/handover",
    status_code=204,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def handover(
    order_id: RowId, body: HandoverIn, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> Response:
    """Mark a meal delivered, picked up or not at home (the point's staff); not at home
    e-mails the elder's family."""
    order = order_for(db, user, order_id)
    ctx = point_context(db, order.service_point_id)
    if not is_point_staff(user, ctx.point):
        if user.role is Role.MEAL_STAFF:
            raise NotFound(f"no meal order {order_id} that you can see")
        raise Forbidden("only the meal point's staff marks meals handed over")
    outcome = MealOrderStatus(body.outcome)
    mail_ids = hand_over(db, user.lang, order, outcome, ctx.point, ctx.settings.phone)
    audit.record(
        db,
        f"meal_order.{outcome.value}",
        order.elder_id,
        user=user,
        target=f"meal_order:{order.id}",
    )
    db.commit()
    deliver(rt, mail_ids)
    announce_orders(db, rt.hub, [order.elder_id], [order.service_point_id], outcome.value)
    return Response(status_code=204)

"""The meal point's page (its meal staff): ``/meals/kitchen``.

For a day and meal (tomorrow's lunch unless chosen): publish the menu (2–4 set meals, names
in Chinese and English, the price typed in yuan and stored in fen, tags and allergens as
checkboxes) or copy last week's menus; the production sheet (portions per set meal, diet and
allergen counts) and the delivery list grouped by route and sorted by address, both printable
and as CSV; and the marks delivered / picked up / not at home (not at home e-mails the family).

A meal point sees only its own orders, and of each elder only the name, address, phone and
diet (`server.meals.kitchen`). The page refreshes itself when an order or a menu changes
(topic ``meal``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Role
from server import audit
from server.api.deps import FormDep, RuntimeDep, SessionDep
from server.errors import AppError, Forbidden, NotFound
from server.ids import RowId
from server.meals.access import meal_point
from server.meals.kitchen import delivery_list, hand_over, production_sheet
from server.meals.menus import copy_week, dishes_of, publish
from server.meals.notices import announce_menu, announce_orders
from server.meals.ordering import PointContext, point_context
from server.meals.pages import TAGS, yuan
from server.meals.rules import ALLERGENS, split
from server.meals.schemas import MenuIn
from server.models import Meal, MealMenu, MealOrder, MealOrderStatus, User, utcnow
from server.outgoing import deliver
from server.web.i18n import translate
from server.web.pages import form_user_of, page_lang, page_user_of, render

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, Depends(page_user_of(Role.MEAL_STAFF))]
StaffForm = Annotated[User, Depends(form_user_of(Role.MEAL_STAFF))]
ROWS = 4  # set meals a menu may have
_PRICE = re.compile(r"[0-9]{1,4}(\.[0-9]{1,2})?")
MARKS = ("delivered", "picked_up", "not_home")


def _ctx(db: Session, user: User) -> PointContext:
    if user.service_point_id is None:
        raise Forbidden("you are not staff of a meal point")
    meal_point(db, user.service_point_id)
    return point_context(db, user.service_point_id)


def _day_meal(params: Any, today: date) -> tuple[date, Meal]:
    try:
        day = date.fromisoformat(str(params.get("day") or ""))
    except ValueError:
        day = today + timedelta(days=1)
    if abs((day - today).days) > 366:
        day = today + timedelta(days=1)
    try:
        meal = Meal(str(params.get("meal") or "lunch"))
    except ValueError:
        meal = Meal.LUNCH
    return day, meal


def _menu_rows(db: Session, menu: MealMenu | None) -> list[dict[str, Any]]:
    """The menu form's rows as typed text: the published set meals, then empty rows."""
    rows: list[dict[str, Any]] = []
    if menu is not None:
        for d in dishes_of(db, menu.id):
            rows.append(
                {
                    "name_zh": d.name_zh,
                    "name_en": d.name_en,
                    "price": yuan(d.price_cents).lstrip("¥"),
                    "tags": split(d.tags),
                    "allergens": split(d.allergens),
                }
            )
    while len(rows) < ROWS:
        rows.append({"name_zh": "", "name_en": "", "price": "", "tags": [], "allergens": []})
    return rows


def kitchen_page(
    request: Request,
    db: Session,
    user: User,
    day: date,
    meal: Meal,
    status: int = 200,
    error: str = "",
    typed: list[dict[str, Any]] | None = None,
    portions: str = "",
) -> Response:
    """The meal point's page for ``day`` and ``meal``."""
    ctx = _ctx(db, user)
    lang = page_lang(request, user)
    today = utcnow().astimezone(ctx.zone).date()
    menu = db.scalar(
        select(MealMenu).where(
            MealMenu.service_point_id == ctx.point.id, MealMenu.day == day, MealMenu.meal == meal
        )
    )
    sheet = production_sheet(db, ctx.point.id, day, meal)
    listing = delivery_list(db, ctx.point.id, day, meal, lang)
    audit.record(db, "meal_kitchen.viewed", None, user=user, target=f"service_point:{ctx.point.id}")
    query = f"day={day.isoformat()}&meal={meal.value}"
    return render(
        request,
        "meals/kitchen.html",
        user,
        status=status,
        point=ctx.point,
        zone=ctx.zone.key,
        day=day,
        meal=meal,
        today=today,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        menu=menu,
        rows=typed or _menu_rows(db, menu),
        portions=portions or (str(menu.portions) if menu else ""),
        sheet=sheet,
        listing=listing,
        error=error,
        marks=MARKS,
        tag_names=TAGS,
        allergen_names=ALLERGENS,
        query=query,
        yuan=yuan,
        lang_zh=lang.value == "zh",
    )


@router.get("/meals/kitchen")
def kitchen_home(request: Request, user: StaffUser, db: SessionDep) -> Response:
    """The meal point's menu, production sheet and delivery list of a day and meal."""
    ctx = _ctx(db, user)
    day, meal = _day_meal(request.query_params, utcnow().astimezone(ctx.zone).date())
    return kitchen_page(request, db, user, day, meal)


def _typed_rows(form: Any) -> list[dict[str, Any]]:
    return [
        {
            "name_zh": str(form.get(f"name_zh_{i}") or "").strip()[:80],
            "name_en": str(form.get(f"name_en_{i}") or "").strip()[:80],
            "price": str(form.get(f"price_{i}") or "").strip()[:12],
            "tags": [t for t in TAGS if t in form.getlist(f"tag_{i}")],
            "allergens": [a for a in ALLERGENS if a in form.getlist(f"allergen_{i}")],
        }
        for i in range(ROWS)
    ]


@router.post("/meals/kitchen/menu")
def menu_form(
    request: Request, user: StaffForm, db: SessionDep, rt: RuntimeDep, form: FormDep
) -> Response:
    """Publish the menu of a day and meal from the form; errors come back beside it."""
    ctx = _ctx(db, user)
    lang = page_lang(request, user)
    day, meal = _day_meal(form, utcnow().astimezone(ctx.zone).date())
    typed = _typed_rows(form)
    portions = str(form.get("portions") or "").strip()[:6]

    def again(message: str, status: int = 422) -> Response:
        db.rollback()
        return kitchen_page(
            request,
            db,
            user,
            day,
            meal,
            status=status,
            error=message,
            typed=typed,
            portions=portions,
        )

    dishes = []
    for row in typed:
        if not row["name_zh"] and not row["name_en"] and not row["price"]:
            continue
        if not row["name_zh"] or not row["name_en"]:
            return again(translate(lang, "meals.page.both_names"))
        if not _PRICE.fullmatch(row["price"]):
            return again(translate(lang, "meals.page.bad_price", name=row["name_en"]))
        whole, _, part = row["price"].partition(".")
        cents = int(whole) * 100 + int((part + "00")[:2])
        dishes.append(
            {
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "price_cents": cents,
                "tags": row["tags"],
                "allergens": row["allergens"],
            }
        )
    if not 2 <= len(dishes) <= ROWS:
        return again(translate(lang, "meals.page.two_to_four"))
    if portions and not portions.isdigit():
        return again(translate(lang, "meals.page.bad_portions"))
    try:
        body = MenuIn(
            day=day,
            meal=meal,
            portions=int(portions) if portions else None,
            dishes=dishes,  # type: ignore[arg-type]
        )
    except ValidationError:
        return again(translate(lang, "meals.page.menu_bad"))
    try:
        menu = publish(db, user, ctx, body)
    except AppError as err:
        return again(err.message, 409)
    audit.record(db, "meal_menu.published", None, user=user, target=f"meal_menu:{menu.id}")
    db.commit()
    announce_menu(db, rt.hub, ctx.point.id, "menu")
    return RedirectResponse(
        f"/meals/kitchen?day={day.isoformat()}&meal={meal.value}&done=menu", status_code=303
    )


@router.post("/meals/kitchen/copy-week")
def copy_week_form(
    request: Request, user: StaffForm, db: SessionDep, rt: RuntimeDep, form: FormDep
) -> Response:
    """Copy last week's menus to this week (days with a menu keep theirs)."""
    ctx = _ctx(db, user)
    day, meal = _day_meal(form, utcnow().astimezone(ctx.zone).date())
    this_monday = day - timedelta(days=day.weekday())
    copied, kept = copy_week(db, user, ctx, this_monday - timedelta(days=7))
    audit.record(db, "meal_menu.copied", None, user=user, detail=f"{copied} copied, {kept} kept")
    db.commit()
    if copied:
        announce_menu(db, rt.hub, ctx.point.id, "menu")
    return RedirectResponse(
        f"/meals/kitchen?day={day.isoformat()}&meal={meal.value}&copied={copied}&kept={kept}",
        status_code=303,
    )


@router.post("/meals/kitchen/orders/{order_id}/mark")
def mark_form(
    request: Request,
    order_id: RowId,
    user: StaffForm,
    db: SessionDep,
    rt: RuntimeDep,
    form: FormDep,
) -> Response:
    """Mark a meal delivered, picked up or not at home (not at home e-mails the family)."""
    ctx = _ctx(db, user)
    order = db.get(MealOrder, order_id)
    if order is None or order.service_point_id != ctx.point.id:
        raise NotFound(f"no meal order {order_id} that you can see")
    outcome_text = str(form.get("outcome") or "")
    if outcome_text not in MARKS:
        raise AppError(translate(page_lang(request, user), "meals.page.choose_mark"))
    outcome = MealOrderStatus(outcome_text)
    try:
        mail_ids = hand_over(db, user.lang, order, outcome, ctx.point, ctx.settings.phone)
    except AppError as err:
        db.rollback()
        return kitchen_page(request, db, user, order.day, order.meal, status=409, error=err.message)
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
    return RedirectResponse(
        f"/meals/kitchen?day={order.day.isoformat()}&meal={order.meal.value}#stop-{order.id}",
        status_code=303,
    )

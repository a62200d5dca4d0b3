"""The family's meal pages: the "Meals" panel of the family home and the monthly statement.

- the panel, per elder: the orders of today and the week ahead (price, subsidy, to pay) with
  Cancel; tomorrow's lunch offer (tags and allergens in words; a set meal with an allergen of
  the elder's is never offered) with Order, or Change to this when one is ordered, and, folded
  under "Later days", the offers of the `LATER_DAYS` after it that the point has published
  and still takes orders for; the elder's diet as checkboxes; the meal point among the
  nearest; the standing orders (add, remove);
- ``/meals/elders/{id}/statement?month=YYYY-MM`` — the month's meals, subsidies and what is to
  pay, per day, as a server-drawn bar chart with the same numbers in a table.

Form errors come back on the family page beside the form, with what was chosen kept; every
change is pushed to open pages (topic ``meal``) by the same code the JSON routes use.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Lang
from server import audit
from server.api.deps import FormDep, RuntimeDep, SessionDep
from server.errors import AppError, Conflict, InvalidInput
from server.ids import RowId, form_row_id
from server.meals import ordering
from server.meals.access import elder_for_diet, family_for, orderer_for
from server.meals.billing import month_span, statement
from server.meals.notices import announce_orders
from server.meals.offers import OrderViews, elder_offer, points_for
from server.meals.routes_elders import diet_row, elder_today
from server.meals.rules import ALLERGENS, join, split
from server.meals.schemas import OfferPublic, OrderPublic, StandingIn, StatementPublic
from server.meals.standing import add_standing, standing_public
from server.models import (
    Dish,
    Elder,
    ElderDiet,
    Meal,
    MealMenu,
    MealMode,
    MealOrder,
    MealOrderStatus,
    StandingOrder,
    User,
    utcnow,
)
from server.permissions import elder_for_viewing
from server.runtime import Runtime
from server.web.homes import family_page
from server.web.i18n import translate
from server.web.pages import FamilyForm, FamilyUser, page_lang, render

router = APIRouter(include_in_schema=False)
TEMPLATE = "meals/_family.html"
DIET_FLAGS = ("diabetic", "low_salt", "soft", "vegetarian")
TAGS = ("low_salt", "low_sugar", "soft", "vegetarian")
CHART_W, CHART_H, CHART_PAD = 420, 200, 24  # the statement chart's drawing box, in px
LATER_DAYS = 6  # beyond tomorrow, the days the family may order ahead on the panel


def yuan(cents: int | None) -> str:
    """Fen as yuan with two decimals ("¥12.50")."""
    value = cents or 0
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value) // 100}.{abs(value) % 100:02d}"


@dataclass
class MealBlock:
    """What the panel shows of one elder."""

    elder: Elder
    today: date
    tomorrow: date
    orders: list[OrderPublic]
    offers: list[OfferPublic]
    later: list[OfferPublic]  # the published, still open offers after tomorrow
    diet: ElderDiet | None
    allergens: list[str]
    points: list[Any]
    standing: list[Any]
    has_diet: bool
    dish_names: dict[int, tuple[str, str]]  # (Chinese, English) of the ordered set meals
    key: str = field(default_factory=lambda: uuid.uuid4().hex)


def _block(db: Session, elder: Elder, lang: Lang) -> MealBlock:
    today = elder_today(db, elder)
    rows = db.scalars(
        select(MealOrder)
        .where(
            MealOrder.elder_id == elder.id,
            MealOrder.day >= today,
            MealOrder.day <= today + timedelta(days=1 + LATER_DAYS),
            MealOrder.status != MealOrderStatus.CANCELLED,
        )
        .order_by(MealOrder.day, MealOrder.meal.desc(), MealOrder.id)
    )
    views = OrderViews(db, lang)
    orders = [views.one(o) for o in rows]
    dishes = db.scalars(select(Dish).where(Dish.id.in_({o.dish_id for o in orders} or {0})))
    diet = db.get(ElderDiet, elder.id)
    standing = db.scalars(
        select(StandingOrder)
        .where(StandingOrder.elder_id == elder.id, StandingOrder.is_active.is_(True))
        .order_by(StandingOrder.id)
    )
    offers = [
        offer
        for offer in (
            elder_offer(db, elder, today + timedelta(days=1), meal, lang) for meal in Meal
        )
        if offer.dishes or offer.meal is Meal.LUNCH  # dinner only where it is served
    ]
    return MealBlock(
        elder=elder,
        today=today,
        tomorrow=today + timedelta(days=1),
        orders=orders,
        offers=offers,
        later=_later_offers(db, elder, lang, today, offers),
        diet=diet,
        allergens=split(diet.allergens) if diet else [],
        points=points_for(db, elder),
        standing=[standing_public(db, s, today) for s in standing],
        has_diet=any(bool(diet and getattr(diet, f)) for f in DIET_FLAGS),
        dish_names={d.id: (d.name_zh, d.name_en) for d in dishes},
    )


def _later_offers(
    db: Session, elder: Elder, lang: Lang, today: date, offers: list[OfferPublic]
) -> list[OfferPublic]:
    """The offers of the `LATER_DAYS` after tomorrow that the elder's point has published a
    menu for and still takes orders for, day by day, lunch before dinner."""
    point = next((o.point for o in offers if o.point is not None), None)
    if point is None:
        return []
    tomorrow = today + timedelta(days=1)
    menus = db.execute(
        select(MealMenu.day, MealMenu.meal)
        .where(
            MealMenu.service_point_id == point.id,
            MealMenu.day > tomorrow,
            MealMenu.day <= tomorrow + timedelta(days=LATER_DAYS),
        )
        .order_by(MealMenu.day, MealMenu.meal.desc())
    ).all()
    later = (elder_offer(db, elder, day, meal, lang) for day, meal in menus)
    return [offer for offer in later if offer.dishes and offer.open]


def family_section(db: Session, rt: Any, user: User, elders: list[Elder]) -> dict[str, Any]:
    """The family home's Meals panel: one block per elder."""
    return {
        "blocks": [_block(db, e, user.lang) for e in elders if e.is_active],
        "yuan": yuan,
        "diet_flags": DIET_FLAGS,
        "allergen_names": ALLERGENS,
        "tag_names": TAGS,
        "now_utc": utcnow(),
    }


def _back(
    request: Request, db: Session, rt: Runtime, user: User, elder_id: int, err: AppError
) -> Response:
    """The family page again with the error beside the elder's meal forms."""
    db.rollback()
    status = 409 if isinstance(err, Conflict) else (err.status if err.status >= 400 else 422)
    return family_page(
        request, db, rt, user, status=status, meal_error=(elder_id, err.message), open_panel="meals"
    )


def _done(elder_id: int, what: str) -> Response:
    return RedirectResponse(f"/family?meal={what}#meals-{elder_id}", status_code=303)


@router.post("/meals/elders/{elder_id}/order")
def order_form(
    request: Request,
    elder_id: RowId,
    user: FamilyForm,
    db: SessionDep,
    rt: RuntimeDep,
    form: FormDep,
) -> Response:
    """Order a set meal for the elder, or change the day's order to it."""
    elder, orderer = orderer_for(db, user, elder_id)
    lang = page_lang(request, user)
    dish_id = form_row_id(form.get("dish"))
    key = str(form.get("key") or "").strip()[:64] or uuid.uuid4().hex
    try:
        if dish_id is None:
            raise InvalidInput(translate(lang, "meals.page.choose_dish"))
        try:
            mode = MealMode(str(form.get("mode") or MealMode.DINE_IN.value))
        except ValueError:
            raise InvalidInput(translate(lang, "meals.page.choose_mode")) from None
        dish, menu = ordering.dish_and_menu(db, dish_id)
        live = ordering.live_order(db, elder.id, menu.day, menu.meal)
        now = utcnow()
        if live is not None:
            ordering.change(db, orderer.lang, live, dish.id, mode, now)
            order, action = live, "changed"
        else:
            order, _ = ordering.place(db, orderer, elder, dish.id, mode, key, now)
            action = "ordered"
    except AppError as err:
        return _back(request, db, rt, user, elder.id, err)
    audit.record(db, f"meal_order.{action}", elder.id, user=user, target=f"meal_order:{order.id}")
    db.commit()
    announce_orders(db, rt.hub, [elder.id], [order.service_point_id], action)
    return _done(elder.id, action)


@router.post("/meals/orders/{order_id}/cancel-meal")
def cancel_form(
    request: Request, order_id: RowId, user: FamilyForm, db: SessionDep, rt: RuntimeDep
) -> Response:
    """Cancel one of the elder's orders (until its cut-off)."""
    order = db.get(MealOrder, order_id)
    if order is None:
        raise _no_order(order_id)
    try:
        orderer_for(db, user, order.elder_id)
    except AppError:
        raise _no_order(order_id) from None
    try:
        cancelled = ordering.cancel(db, user.lang, order.id, utcnow())
    except AppError as err:
        return _back(request, db, rt, user, order.elder_id, err)
    if cancelled:
        audit.record(
            db, "meal_order.cancelled", order.elder_id, user=user, target=f"meal_order:{order.id}"
        )
        db.commit()
        announce_orders(db, rt.hub, [order.elder_id], [order.service_point_id], "cancelled")
    return _done(order.elder_id, "cancelled")


def _no_order(order_id: int) -> AppError:
    from server.errors import NotFound

    return NotFound(f"no meal order {order_id} that you can see")


@router.post("/meals/elders/{elder_id}/diet")
def diet_form(
    elder_id: RowId, user: FamilyForm, db: SessionDep, rt: RuntimeDep, form: FormDep
) -> Response:
    """Set the elder's diet and allergies from the checkboxes (unknown values are ignored)."""
    elder = elder_for_diet(db, user, elder_id)
    diet = diet_row(db, elder.id)
    for flag in DIET_FLAGS:
        setattr(diet, flag, form.get(flag) == "on")
    diet.allergens = join(a for a in ALLERGENS if a in form.getlist("allergen"))
    diet.updated_by, diet.updated_at = user.id, utcnow()
    audit.record(db, "meal_diet.updated", elder.id, user=user)
    db.commit()
    announce_orders(db, rt.hub, [elder.id], [], "diet")
    return _done(elder.id, "diet")


@router.post("/meals/elders/{elder_id}/point")
def point_form(
    request: Request,
    elder_id: RowId,
    user: FamilyForm,
    db: SessionDep,
    rt: RuntimeDep,
    form: FormDep,
) -> Response:
    """Choose the elder's meal point among the nearest ("nearest" clears the choice)."""
    elder = family_for(db, user, elder_id)
    raw = str(form.get("point") or "")
    point_id = None if raw in ("", "nearest") else form_row_id(raw)
    near = {p.id for p in points_for(db, elder)}
    if raw not in ("", "nearest") and point_id not in near:
        err = InvalidInput(translate(page_lang(request, user), "meals.page.choose_point"))
        return _back(request, db, rt, user, elder.id, err)
    diet = diet_row(db, elder.id)
    diet.preferred_point_id = point_id
    diet.updated_by, diet.updated_at = user.id, utcnow()
    audit.record(db, "meal_point.preferred", elder.id, user=user)
    db.commit()
    announce_orders(db, rt.hub, [elder.id], [], "point")
    return _done(elder.id, "point")


@router.post("/meals/elders/{elder_id}/standing")
def standing_form(
    request: Request,
    elder_id: RowId,
    user: FamilyForm,
    db: SessionDep,
    rt: RuntimeDep,
    form: FormDep,
) -> Response:
    """Add a standing order: meal, weekdays, the set meal wanted (by tag) and the mode."""
    elder = family_for(db, user, elder_id)
    lang = page_lang(request, user)
    tag = str(form.get("tag") or "") or None
    try:
        points = points_for(db, elder)
        if not points:
            raise InvalidInput(translate(lang, "meals.page.no_point"))
        days = [
            int(str(d))
            for d in form.getlist("weekday")
            if str(d) in ("0", "1", "2", "3", "4", "5", "6")
        ]
        if not days:
            raise InvalidInput(translate(lang, "meals.page.choose_weekdays"))
        try:
            body = StandingIn(
                point_id=points[0].id,
                meal=Meal(str(form.get("meal") or "lunch")),
                weekdays=sorted(set(days)),
                tag=tag,  # type: ignore[arg-type]
                mode=MealMode(str(form.get("mode") or "dine_in")),
            )
        except ValueError:
            raise InvalidInput(translate(lang, "meals.page.standing_bad")) from None
        row = add_standing(db, user, elder, body)
    except AppError as err:
        return _back(request, db, rt, user, elder.id, err)
    audit.record(db, "meal_standing.created", elder.id, user=user, target=f"standing:{row.id}")
    db.commit()
    announce_orders(db, rt.hub, [elder.id], [], "standing")
    return _done(elder.id, "standing")


@router.post("/meals/standing/{standing_id}/end")
def end_standing_form(
    standing_id: RowId, user: FamilyForm, db: SessionDep, rt: RuntimeDep
) -> Response:
    """End a standing order (orders already made stay)."""
    from server.errors import NotFound

    row = db.get(StandingOrder, standing_id)
    if row is None:
        raise NotFound(f"no standing order {standing_id}")
    try:
        family_for(db, user, row.elder_id)
    except NotFound:
        raise NotFound(f"no standing order {standing_id}") from None
    row.is_active = False
    audit.record(db, "meal_standing.ended", row.elder_id, user=user, target=f"standing:{row.id}")
    db.commit()
    announce_orders(db, rt.hub, [row.elder_id], [], "standing")
    return _done(row.elder_id, "standing")


# -- the monthly statement -------------------------------------------------------------------


@dataclass
class DayBar:
    """One day of the statement chart: what the meals cost, the subsidy and what is to pay."""

    day: date
    meals: int
    price_cents: int
    subsidy_cents: int
    payable_cents: int
    x: float = 0.0
    width: float = 0.0
    pay_y: float = 0.0
    pay_h: float = 0.0
    sub_y: float = 0.0
    sub_h: float = 0.0


def day_bars(st: StatementPublic) -> list[DayBar]:
    """The statement per day (days with a meal), laid out as stacked bars: to pay below, the
    subsidy on top, the whole bar the price."""
    per: dict[date, DayBar] = {}
    for line in st.lines:
        if line.status is MealOrderStatus.CANCELLED:
            continue
        bar = per.setdefault(line.day, DayBar(line.day, 0, 0, 0, 0))
        bar.meals += 1
        bar.price_cents += line.price_cents
        bar.subsidy_cents += line.subsidy_cents
        bar.payable_cents += line.payable_cents
    bars = [per[d] for d in sorted(per)]
    first, last = month_span(st.month)
    days = (last - first).days or 1
    top = max((b.price_cents for b in bars), default=0) or 1
    inner_w, inner_h = CHART_W - 2 * CHART_PAD, CHART_H - 2 * CHART_PAD
    step = inner_w / days
    for b in bars:
        b.x = CHART_PAD + (b.day - first).days * step + step * 0.1
        b.width = step * 0.8
        b.pay_h = inner_h * b.payable_cents / top
        b.sub_h = inner_h * b.subsidy_cents / top
        b.pay_y = CHART_PAD + inner_h - b.pay_h
        b.sub_y = b.pay_y - b.sub_h
    return bars


@router.get("/meals/elders/{elder_id}/statement")
def statement_page(request: Request, elder_id: RowId, user: FamilyUser, db: SessionDep) -> Response:
    """The month's meals, subsidies and what is to pay, with a chart and a table per day."""
    elder = elder_for_viewing(db, user, elder_id)
    lang = page_lang(request, user)
    this_month = elder_today(db, elder).strftime("%Y-%m")
    month = str(request.query_params.get("month") or this_month)
    if not re.fullmatch(r"20[0-9]{2}-(0[1-9]|1[0-2])", month):
        month = this_month
    first, _ = month_span(month)
    audit.record(db, "meal_statement.read", elder.id, user=user)
    st = statement(db, elder, month, lang)
    prev = (first - timedelta(days=1)).strftime("%Y-%m")
    nxt = (first + timedelta(days=32)).strftime("%Y-%m")
    return render(
        request,
        "meals/statement.html",
        user,
        elder=elder,
        st=st,
        bars=day_bars(st),
        yuan=yuan,
        prev_month=prev,
        next_month=nxt,
        chart_w=CHART_W,
        chart_h=CHART_H,
        chart_pad=CHART_PAD,
    )

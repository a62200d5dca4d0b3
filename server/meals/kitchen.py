"""The kitchen's side: the production sheet, the delivery list (and both as CSV), and marking
meals delivered, picked up or not at home (which e-mails the family).

A meal point sees only its own orders, and of each elder only what it needs to cook and hand
over: name, address, phone, diet and allergies.

Routes (the issue leaves them open; chosen here): a delivery's route is the road of its
address (the text up to the first 路, 街, 道, 巷, 弄, Road, Street, Lane or Avenue); pick-ups
at the counter are one group of their own; routes are listed by name and stops by address.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Lang
from server.errors import Conflict
from server.meals.menus import dish_name
from server.meals.notices import family_of
from server.meals.rules import DIET_TAGS, split
from server.meals.schemas import (
    DeliveryList,
    DeliveryRoute,
    DeliveryStop,
    ProductionSheet,
    SheetLine,
)
from server.models import (
    Dish,
    Elder,
    ElderDiet,
    Meal,
    MealMode,
    MealOrder,
    MealOrderStatus,
    ServicePoint,
    utcnow,
)
from server.notify import Email
from server.outgoing import queue_email
from server.web.i18n import translate

PICK_UP_ROUTE = "pick_up"
_ROAD = re.compile(r"^(.*?(路|街|道|巷|弄|\bRoad\b|\bStreet\b|\bLane\b|\bAvenue\b))", re.IGNORECASE)
# Orders the kitchen cooks: every one not cancelled.
COOKED = (
    MealOrderStatus.ORDERED,
    MealOrderStatus.DELIVERED,
    MealOrderStatus.PICKED_UP,
    MealOrderStatus.NOT_HOME,
)


def route_of(address: str) -> str:
    """The road an address is on (its route), or the address itself."""
    found = _ROAD.match(address.strip())
    road = found.group(1) if found else address.strip()
    return re.sub(r"^[0-9]+[A-Za-z]?\s+", "", road).strip() or "-"


def diet_words(diet: ElderDiet | None) -> list[str]:
    """The diet flags that are set (``diabetic``, ``low_salt``…)."""
    return [flag for flag in DIET_TAGS if diet is not None and getattr(diet, flag)]


def _rows(
    db: Session, point_id: int, day: date, meal: Meal
) -> list[tuple[MealOrder, Dish, Elder, ElderDiet | None]]:
    query = (
        select(MealOrder, Dish, Elder, ElderDiet)
        .join(Dish, Dish.id == MealOrder.dish_id)
        .join(Elder, Elder.id == MealOrder.elder_id)
        .outerjoin(ElderDiet, ElderDiet.elder_id == MealOrder.elder_id)
        .where(
            MealOrder.service_point_id == point_id,
            MealOrder.day == day,
            MealOrder.meal == meal,
            MealOrder.status.in_(COOKED),
        )
    )
    return [tuple(r) for r in db.execute(query)]  # type: ignore[misc]


def production_sheet(db: Session, point_id: int, day: date, meal: Meal) -> ProductionSheet:
    """Portions per set meal, split by mode, with diet and allergen counts."""
    lines: dict[int, SheetLine] = {}
    for order, dish, _elder, diet in _rows(db, point_id, day, meal):
        line = lines.get(dish.id)
        if line is None:
            line = lines[dish.id] = SheetLine(
                dish_id=dish.id,
                name_zh=dish.name_zh,
                name_en=dish.name_en,
                portions=0,
                dine_in=0,
                delivery=0,
                diets={},
                allergens={},
            )
        line.portions += 1
        if order.mode is MealMode.DELIVERY:
            line.delivery += 1
        else:
            line.dine_in += 1
        for flag in diet_words(diet):
            line.diets[flag] = line.diets.get(flag, 0) + 1
        for allergen in split(diet.allergens) if diet is not None else []:
            line.allergens[allergen] = line.allergens.get(allergen, 0) + 1
    ordered = sorted(lines.values(), key=lambda line: line.dish_id)
    return ProductionSheet(
        service_point_id=point_id,
        day=day,
        meal=meal,
        total=sum(line.portions for line in ordered),
        lines=ordered,
    )


def delivery_list(db: Session, point_id: int, day: date, meal: Meal, lang: Lang) -> DeliveryList:
    """The meals to hand over, grouped by route and sorted by address."""
    routes: dict[str, list[DeliveryStop]] = defaultdict(list)
    for order, dish, elder, diet in _rows(db, point_id, day, meal):
        route = PICK_UP_ROUTE if order.mode is MealMode.DINE_IN else route_of(elder.address)
        routes[route].append(
            DeliveryStop(
                order_id=order.id,
                elder_name=elder.name,
                address=elder.address,
                phone=elder.phone,
                dish_name=dish_name(dish, lang),
                diet=diet_words(diet),
                allergens=split(diet.allergens) if diet is not None else [],
                mode=order.mode,
                status=order.status,
            )
        )
    names = sorted(r for r in routes if r != PICK_UP_ROUTE)
    if PICK_UP_ROUTE in routes:
        names.append(PICK_UP_ROUTE)
    return DeliveryList(
        service_point_id=point_id,
        day=day,
        meal=meal,
        routes=[
            DeliveryRoute(
                route=name, stops=sorted(routes[name], key=lambda s: (s.address, s.order_id))
            )
            for name in names
        ],
    )


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


def _cell(value: object) -> object:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else value


def production_csv(sheet: ProductionSheet) -> str:
    """The production sheet as CSV, one line per set meal."""
    return _csv(
        ["dish_id", "name_zh", "name_en", "portions", "dine_in", "delivery", "diets", "allergens"],
        [
            [
                line.dish_id,
                line.name_zh,
                line.name_en,
                line.portions,
                line.dine_in,
                line.delivery,
                " ".join(f"{k}:{v}" for k, v in sorted(line.diets.items())),
                " ".join(f"{k}:{v}" for k, v in sorted(line.allergens.items())),
            ]
            for line in sheet.lines
        ],
    )


def delivery_csv(listing: DeliveryList) -> str:
    """The delivery list as CSV, one line per stop, in route order."""
    return _csv(
        [
            "route",
            "order_id",
            "elder",
            "address",
            "phone",
            "dish",
            "diet",
            "allergens",
            "mode",
            "status",
        ],
        [
            [
                route.route,
                stop.order_id,
                stop.elder_name,
                stop.address,
                stop.phone,
                stop.dish_name,
                " ".join(stop.diet),
                " ".join(stop.allergens),
                stop.mode.value,
                stop.status.value,
            ]
            for route in listing.routes
            for stop in route.stops
        ],
    )


def hand_over(
    db: Session,
    lang: Lang,
    order: MealOrder,
    outcome: MealOrderStatus,
    point: ServicePoint,
    phone: str,
) -> list[int]:
    """Mark the meal delivered, picked up or not at home; the ids of e-mails queued (not at
    home: one to each family member). Marking it again the same way changes nothing."""
    if order.status is outcome:
        return []
    if order.status is MealOrderStatus.CANCELLED:
        raise Conflict(translate(lang, "meals.not_open"))
    order.status = outcome
    order.handed_at = order.updated_at = utcnow()
    db.flush()
    if outcome is not MealOrderStatus.NOT_HOME:
        return []
    elder = db.get(Elder, order.elder_id)
    assert elder is not None
    ids = []
    for user in family_of(db, elder.id):
        if not user.email:
            continue
        values = {
            "elder": elder.name,
            "meal": translate(user.lang, f"meals.meal.{order.meal.value}"),
            "day": order.day.isoformat(),
            "point": point.name,
            "phone": phone or "-",
            "address": elder.address,
        }
        mail = Email(
            to=user.email,
            subject=translate(user.lang, "meals.mail.not_home_subject", **values),
            body=translate(user.lang, "meals.mail.not_home_body", **values),
        )
        ids.append(queue_email(db, mail, f"meal-not-home:{order.id}:{user.id}"))
    return ids

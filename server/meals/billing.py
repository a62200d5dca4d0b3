"""Money after the meals: an elder's monthly statement, the operator's orders per meal point
per day, and the monthly subsidy claim of each meal point and category as CSV.

What counts: every order not cancelled (a meal not collected or not at home was still
cooked, and is still paid and subsidised). Sums are of the amounts stored on the orders, so a
statement always adds up: price = subsidy + payable on every line and in the totals.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from protocol import Lang
from server.meals.kitchen import COOKED
from server.meals.menus import dish_name
from server.meals.schemas import PointDayPublic, StatementLine, StatementPublic
from server.models import (
    Dish,
    Elder,
    Meal,
    MealOrder,
    MealOrderStatus,
    ServicePoint,
    ServicePointKind,
    SubsidyCategory,
)


def month_span(month: str) -> tuple[date, date]:
    """The first day of ``YYYY-MM`` and of the month after."""
    year, number = int(month[:4]), int(month[5:7])
    start = date(year, number, 1)
    end = date(year + number // 12, number % 12 + 1, 1)
    return start, end


def statement(db: Session, elder: Elder, month: str, lang: Lang) -> StatementPublic:
    """The elder's meals of the month with their price, subsidy and payable amounts."""
    start, end = month_span(month)
    rows = db.execute(
        select(MealOrder, Dish)
        .join(Dish, Dish.id == MealOrder.dish_id)
        .where(
            MealOrder.elder_id == elder.id,
            MealOrder.day >= start,
            MealOrder.day < end,
            MealOrder.status.in_(COOKED),
        )
        .order_by(MealOrder.day, MealOrder.meal.desc(), MealOrder.id)
    ).all()
    lines = [
        StatementLine(
            order_id=order.id,
            day=order.day,
            meal=order.meal,
            dish_name=dish_name(dish, lang),
            status=order.status,
            price_cents=order.price_cents,
            subsidy_cents=order.subsidy_cents,
            payable_cents=order.payable_cents,
        )
        for order, dish in rows
    ]
    return StatementPublic(
        elder_id=elder.id,
        month=month,
        meals=len(lines),
        price_cents=sum(line.price_cents for line in lines),
        subsidy_cents=sum(line.subsidy_cents for line in lines),
        payable_cents=sum(line.payable_cents for line in lines),
        lines=lines,
    )


def orders_per_point(db: Session, area_id: int, day: date) -> list[PointDayPublic]:
    """Each meal point of the area with its orders of the day."""
    counted = (
        select(
            MealOrder.service_point_id,
            func.sum(case((MealOrder.meal == Meal.LUNCH, 1), else_=0)),
            func.sum(case((MealOrder.meal == Meal.DINNER, 1), else_=0)),
            func.sum(
                case(
                    (
                        MealOrder.status.in_(
                            (MealOrderStatus.DELIVERED, MealOrderStatus.PICKED_UP)
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
            func.sum(case((MealOrder.status == MealOrderStatus.NOT_HOME, 1), else_=0)),
            func.sum(MealOrder.subsidy_cents),
        )
        .where(MealOrder.day == day, MealOrder.status.in_(COOKED))
        .group_by(MealOrder.service_point_id)
    )
    sums = {row[0]: row[1:] for row in db.execute(counted)}
    points = db.scalars(
        select(ServicePoint)
        .where(
            ServicePoint.service_area_id == area_id,
            ServicePoint.kind == ServicePointKind.MEAL_POINT,
        )
        .order_by(ServicePoint.name, ServicePoint.id)
    )
    out = []
    for point in points:
        lunch, dinner, handed, not_home, subsidy = sums.get(point.id, (0, 0, 0, 0, 0))
        out.append(
            PointDayPublic(
                service_point_id=point.id,
                name=point.name,
                lunch=int(lunch or 0),
                dinner=int(dinner or 0),
                delivered=int(handed or 0),
                not_home=int(not_home or 0),
                subsidy_cents=int(subsidy or 0),
            )
        )
    return out


CLAIM_HEADER = [
    "service_point_id",
    "meal_point",
    "category_code",
    "category",
    "meals",
    "price_cents",
    "subsidy_cents",
    "payable_cents",
]


def subsidy_claim_csv(db: Session, area_id: int, month: str, lang: Lang) -> str:
    """The month's subsidised meals of the area's points, per point and category, as CSV,
    with a total line; one aggregate query whatever the number of elders."""
    start, end = month_span(month)
    rows = db.execute(
        select(
            ServicePoint.id,
            ServicePoint.name,
            SubsidyCategory.code,
            SubsidyCategory.name_zh,
            SubsidyCategory.name_en,
            func.count(MealOrder.id),
            func.sum(MealOrder.price_cents),
            func.sum(MealOrder.subsidy_cents),
            func.sum(MealOrder.payable_cents),
        )
        .join(ServicePoint, ServicePoint.id == MealOrder.service_point_id)
        .join(SubsidyCategory, SubsidyCategory.id == MealOrder.subsidy_category_id)
        .where(
            ServicePoint.service_area_id == area_id,
            MealOrder.day >= start,
            MealOrder.day < end,
            MealOrder.status.in_(COOKED),
        )
        .group_by(
            ServicePoint.id,
            ServicePoint.name,
            SubsidyCategory.code,
            SubsidyCategory.name_zh,
            SubsidyCategory.name_en,
        )
        .order_by(ServicePoint.name, ServicePoint.id, SubsidyCategory.code)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CLAIM_HEADER)
    totals = [0, 0, 0, 0]
    for point_id, point, code, zh, en, meals, price, subsidy, payable in rows:
        values = [int(meals), int(price or 0), int(subsidy or 0), int(payable or 0)]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        writer.writerow(
            [point_id, _safe(point), code, _safe(zh if lang is Lang.ZH else en), *values]
        )
    writer.writerow(["", "total", "", "", *totals])
    return out.getvalue()


def _safe(text: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text

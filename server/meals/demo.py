"""What meals add to the demo world: the demo meal point's service and staff login, a week of
menus either side of today, diets, the area's subsidy categories, and some orders."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server.core.security import hash_password
from server.demo import MEAL_STAFF_DEMO
from server.meals.menus import publish, save_settings
from server.meals.ordering import Orderer, place, point_context, service_of
from server.meals.rules import cutoff_at, join
from server.meals.schemas import DishIn, MenuIn, PointSettingsIn, ServiceIn
from server.models import (
    Dish,
    Elder,
    ElderDiet,
    ElderSubsidy,
    Meal,
    MealMenu,
    MealMode,
    OrderedBy,
    ServicePoint,
    ServicePointKind,
    StandingOrder,
    SubsidyCategory,
    User,
    utcnow,
)

MEAL_STAFF_LOGIN = (MEAL_STAFF_DEMO.email, MEAL_STAFF_DEMO.password, MEAL_STAFF_DEMO.name)
# (zh, en, price in fen, tags, allergens)
SETS: tuple[tuple[str, str, int, list[str], list[str]], ...] = (
    ("清蒸鱼套餐", "Steamed fish set", 1500, ["low_salt", "low_sugar"], ["fish"]),
    ("番茄炒蛋套餐", "Tomato and egg set", 1200, ["soft"], ["egg"]),
    ("素什锦套餐", "Mixed vegetable set", 1000, ["vegetarian", "low_salt", "low_sugar"], ["soy"]),
    ("红烧肉套餐", "Braised pork set", 1800, [], ["wheat", "soy"]),
)
DINNER_SETS: tuple[tuple[str, str, int, list[str], list[str]], ...] = (
    ("小米粥配菜包", "Millet porridge and bun", 800, ["soft", "low_sugar"], ["wheat"]),
    ("鸡肉青菜面", "Chicken and greens noodles", 1100, ["low_salt"], ["wheat", "egg"]),
)
CATEGORIES = (
    ("aged_80", "八十岁以上", "Aged 80 and over", 500, None),
    ("low_income", "低保", "Low income", None, 50),
    ("disabled", "残疾", "Disabled", 800, None),
    ("living_alone", "独居", "Living alone", 300, None),
)


def seed_meals(db: Session) -> None:
    """The meal point's service and staff, menus, diets, subsidies and orders."""
    point = db.scalar(select(ServicePoint).where(ServicePoint.kind == ServicePointKind.MEAL_POINT))
    if point is None:
        return
    email, password, name = MEAL_STAFF_LOGIN
    staff = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=Role.MEAL_STAFF,
        lang=Lang.ZH,
        service_point_id=point.id,
        phone="010-6501-8899",
    )
    db.add(staff)
    db.flush()
    save_settings(
        db,
        point,
        PointSettingsIn(
            phone="010-6501-8899",
            open_days=[0, 1, 2, 3, 4, 5],
            dine_in=True,
            delivery=True,
            delivery_radius_m=3000,
            services=[
                ServiceIn(meal=Meal.LUNCH, portions=60),
                ServiceIn(
                    meal=Meal.DINNER,
                    cutoff_days_before=0,
                    cutoff_time="14:00",
                    portions=30,
                    window_start="17:00",
                    window_end="18:00",
                ),
            ],
        ),
    )
    ctx = point_context(db, point.id)
    today = utcnow().astimezone(ctx.zone).date()
    for ahead in range(-7, 8):
        day = today + timedelta(days=ahead)
        if day.weekday() == 6:
            continue
        for meal, sets in ((Meal.LUNCH, SETS), (Meal.DINNER, DINNER_SETS)):
            dishes = [
                DishIn(name_zh=zh, name_en=en, price_cents=p, tags=t, allergens=a)  # type: ignore[arg-type]
                for zh, en, p, t, a in sets
            ]
            publish(db, staff, ctx, MenuIn(day=day, meal=meal, dishes=dishes))
    categories = {}
    for code, zh, en, amount, percent in CATEGORIES:
        row = SubsidyCategory(
            service_area_id=point.service_area_id,
            code=code,
            name_zh=zh,
            name_en=en,
            amount_cents=amount,
            percent=percent,
            is_active=True,
        )
        db.add(row)
        categories[code] = row
    db.flush()
    wang = db.scalar(select(Elder).where(Elder.name == "王秀英"))
    chen = db.scalar(select(Elder).where(Elder.name == "Margaret Chen"))
    if wang is None or chen is None:
        return
    db.add(
        ElderDiet(
            elder_id=wang.id,
            diabetic=True,
            low_salt=True,
            allergens=join(["peanut"]),
            preferred_point_id=point.id,
        )
    )
    db.add(ElderDiet(elder_id=chen.id, soft=True, allergens=join(["shellfish"])))
    db.add_all(
        [
            ElderSubsidy(elder_id=wang.id, category_id=categories["aged_80"].id),
            ElderSubsidy(elder_id=wang.id, category_id=categories["living_alone"].id),
            ElderSubsidy(elder_id=chen.id, category_id=categories["low_income"].id),
        ]
    )
    family = db.scalar(select(User).where(User.email == "family1@demo.anxin"))
    db.add(
        StandingOrder(
            elder_id=chen.id,
            service_point_id=point.id,
            meal=Meal.LUNCH,
            weekdays="0,1,2,3,4",
            tag="soft",
            mode=MealMode.DELIVERY,
            is_active=True,
            created_at=utcnow(),
        )
    )
    db.flush()
    lunch = service_of(db, point.id, Meal.LUNCH)
    assert lunch is not None
    # Wang's lunches of the past week and tomorrow, each ordered just before its cut-off.
    for ahead in range(-6, 2):
        day = today + timedelta(days=ahead)
        dish_id = _dish(db, point.id, day, "Steamed fish set")
        if dish_id is None or family is None:
            continue
        when = cutoff_at(lunch, day, ctx.zone) - timedelta(hours=2)
        orderer = Orderer(OrderedBy.FAMILY, f"user:{family.id}", Lang.ZH, user_id=family.id)
        mode = MealMode.DINE_IN if ahead % 2 else MealMode.DELIVERY
        place(db, orderer, wang, dish_id, mode, f"demo-{day.isoformat()}", when)


def _dish(db: Session, point_id: int, day: date, name_en: str) -> int | None:
    return db.scalar(
        select(Dish.id)
        .join(MealMenu, MealMenu.id == Dish.menu_id)
        .where(
            MealMenu.service_point_id == point_id,
            MealMenu.day == day,
            MealMenu.meal == Meal.LUNCH,
            Dish.name_en == name_en,
        )
    )

"""A meal point to test with: area A's point with its staff, lunch and dinner service, and
menus, built through the domain code as its staff would through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from protocol import Role
from server.meals.menus import publish, save_settings
from server.meals.ordering import point_context
from server.meals.schemas import DishIn, MenuIn, PointSettingsIn, ServiceIn
from server.models import (
    Dish,
    Meal,
    MealMenu,
    ServicePoint,
    ServicePointKind,
    User,
)
from tests.support.world import make_user

# (name_en, price in fen, tags, allergens)
LUNCH = (
    ("Steamed fish", 1500, ["low_salt", "low_sugar"], ["fish"]),
    ("Tomato and egg", 1200, ["soft"], ["egg"]),
    ("Mixed vegetables", 1000, ["vegetarian", "low_salt", "low_sugar"], ["soy"]),
    ("Peanut chicken", 1800, [], ["peanut"]),
)


@dataclass
class MealPoint:
    """A meal point, its staff member and its phone."""

    point_id: int
    staff: User
    phone: str = "010-6501-8899"


def make_meal_point(
    db: Session,
    area_id: int | None,
    *,
    portions: int = 50,
    latitude: float = 39.9,
    longitude: float = 116.4,
    delivery_radius_m: int = 3000,
    name: str = "Happiness Meal Point",
    lunch_cutoff: tuple[int, str] = (1, "17:00"),
) -> MealPoint:
    """A meal point open every day: lunch closes 17:00 the day before (or ``lunch_cutoff``:
    days before, time), dinner 14:00 the day."""
    point = ServicePoint(
        kind=ServicePointKind.MEAL_POINT,
        name=name,
        address="5 Shuiduizi East Road",
        latitude=latitude,
        longitude=longitude,
        service_area_id=area_id,
    )
    db.add(point)
    db.flush()
    staff = make_user(db, Role.MEAL_STAFF, service_point_id=point.id)
    save_settings(
        db,
        point,
        PointSettingsIn(
            phone="010-6501-8899",
            open_days=[0, 1, 2, 3, 4, 5, 6],
            dine_in=True,
            delivery=True,
            delivery_radius_m=delivery_radius_m,
            services=[
                ServiceIn(
                    meal=Meal.LUNCH,
                    cutoff_days_before=lunch_cutoff[0],
                    cutoff_time=lunch_cutoff[1],
                    portions=portions,
                ),
                ServiceIn(
                    meal=Meal.DINNER,
                    cutoff_days_before=0,
                    cutoff_time="14:00",
                    portions=portions,
                    window_start="17:00",
                    window_end="18:00",
                ),
            ],
        ),
    )
    return MealPoint(point.id, staff)


# Tomorrow's lunch stays open whenever a test runs: it closes at 10:00 on the day.
ALWAYS_OPEN_TOMORROW = (0, "10:00")


def make_menu(
    db: Session, mp: MealPoint, day: date, meal: Meal = Meal.LUNCH, portions: int | None = None
) -> tuple[int, dict[str, int]]:
    """The lunch menu of ``day``: (menu id, set meal ids by English name)."""
    ctx = point_context(db, mp.point_id)
    dishes = [
        DishIn(name_zh=f"{en}套餐", name_en=en, price_cents=p, tags=t, allergens=a)  # type: ignore[arg-type]
        for en, p, t, a in LUNCH
    ]
    menu = publish(db, mp.staff, ctx, MenuIn(day=day, meal=meal, portions=portions, dishes=dishes))
    ids = {d.name_en: d.id for d in db.query(Dish).filter(Dish.menu_id == menu.id)}
    return menu.id, ids


def menu_row(db: Session, menu_id: int) -> MealMenu:
    """The menu read afresh."""
    db.expire_all()
    menu = db.get(MealMenu, menu_id)
    assert menu is not None
    return menu

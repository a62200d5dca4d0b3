"""What an elder is offered and has ordered: the point that serves them (preferred, or the
nearest), the day's safe set meals with fitting ones first and the price to pay, and orders
as the API shows them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Lang
from server.errors import NotFound
from server.meals.menus import dish_name, dish_public, dishes_of
from server.meals.nearby import NearPoint, distance_m, nearest_points
from server.meals.ordering import PointContext, categories_of, point_context, service_of
from server.meals.rules import clock, cutoff_at, money, offer, weekdays
from server.meals.schemas import NearPointPublic, OfferDish, OfferPublic, OrderPublic
from server.models import Dish, Elder, ElderDiet, Meal, MealMenu, MealMode, MealOrder, utcnow


def near_public(near: NearPoint, preferred: int | None) -> NearPointPublic:
    """A meal point near the elder as the API shows it."""
    return NearPointPublic(
        id=near.point_id,
        name=near.name,
        address=near.address,
        distance_m=near.distance_m,
        modes=list(near.modes),
        preferred=near.point_id == preferred,
    )


def points_for(db: Session, elder: Elder) -> list[NearPointPublic]:
    """The meal points serving the elder, the preferred one first, then the nearest."""
    diet = db.get(ElderDiet, elder.id)
    preferred = diet.preferred_point_id if diet is not None else None
    found = []
    if elder.latitude is not None and elder.longitude is not None:
        found = [
            near_public(n, preferred) for n in nearest_points(db, elder.latitude, elder.longitude)
        ]
    if preferred is not None and all(p.id != preferred for p in found):
        chosen = serving_point(db, elder)
        if chosen is not None:
            found.insert(0, chosen)
    found.sort(key=lambda p: (not p.preferred, p.distance_m))
    return found


def serving_point(db: Session, elder: Elder) -> NearPointPublic | None:
    """The point that serves the elder: the preferred one, else the nearest."""
    diet = db.get(ElderDiet, elder.id)
    if diet is not None and diet.preferred_point_id is not None:
        try:
            ctx = point_context(db, diet.preferred_point_id)
        except NotFound:
            ctx = None
        if ctx is not None:
            far = distance_m(
                elder.latitude, elder.longitude, ctx.point.latitude, ctx.point.longitude
            )
            modes = [
                m
                for m, on in (
                    (MealMode.DINE_IN, ctx.settings.dine_in),
                    (MealMode.DELIVERY, ctx.settings.delivery),
                )
                if on
            ]
            return NearPointPublic(
                id=ctx.point.id,
                name=ctx.point.name,
                address=ctx.point.address,
                distance_m=round(far) if far is not None else 0,
                modes=modes,
                preferred=True,
            )
    if elder.latitude is None or elder.longitude is None:
        return None
    nearest = nearest_points(db, elder.latitude, elder.longitude, limit=1)
    return near_public(nearest[0], None) if nearest else None


def elder_offer(db: Session, elder: Elder, day: date, meal: Meal, lang: Lang) -> OfferPublic:
    """The set meals the elder may order for ``day``'s ``meal`` at their point: never one
    with an allergen of theirs, those fitting the diet first, with the price to pay."""
    point = serving_point(db, elder)
    empty = OfferPublic(
        elder_id=elder.id,
        day=day,
        meal=meal,
        point=point,
        menu_id=None,
        cutoff_at=None,
        open=False,
        sold_out=False,
        window_start=None,
        window_end=None,
        dishes=[],
    )
    if point is None:
        return empty
    ctx = point_context(db, point.id)
    service = service_of(db, point.id, meal)
    menu = db.scalar(
        select(MealMenu).where(
            MealMenu.service_point_id == point.id, MealMenu.day == day, MealMenu.meal == meal
        )
    )
    if service is None or menu is None or day.weekday() not in weekdays(ctx.settings.open_days):
        return empty
    closes = cutoff_at(service, day, ctx.zone)
    categories = categories_of(db, elder)
    dishes = []
    for dish, fits in offer(dishes_of(db, menu.id), db.get(ElderDiet, elder.id)):
        cost = money(dish.price_cents, categories)
        dishes.append(
            OfferDish(
                **dish_public(dish, lang).model_dump(),
                fits_diet=fits,
                subsidy_cents=cost.subsidy_cents,
                payable_cents=cost.payable_cents,
            )
        )
    return empty.model_copy(
        update={
            "menu_id": menu.id,
            "cutoff_at": closes,
            "open": utcnow() < closes,
            "sold_out": menu.ordered >= menu.portions,
            "window_start": clock(service.window_start),
            "window_end": clock(service.window_end),
            "dishes": dishes,
        }
    )


class OrderViews:
    """Builds `OrderPublic`s, reading each point's zone and services once."""

    def __init__(self, db: Session, lang: Lang) -> None:
        self.db, self.lang = db, lang
        self._points: dict[int, PointContext] = {}

    def _ctx(self, point_id: int) -> PointContext:
        if point_id not in self._points:
            self._points[point_id] = point_context(self.db, point_id)
        return self._points[point_id]

    def one(self, order: MealOrder) -> OrderPublic:
        """The order as the API shows it."""
        ctx = self._ctx(order.service_point_id)
        service = service_of(self.db, order.service_point_id, order.meal)
        dish = self.db.get(Dish, order.dish_id)
        closes = cutoff_at(service, order.day, ctx.zone) if service else order.created_at
        return OrderPublic(
            id=order.id,
            elder_id=order.elder_id,
            service_point_id=order.service_point_id,
            menu_id=order.menu_id,
            dish_id=order.dish_id,
            dish_name=dish_name(dish, self.lang) if dish else "",
            day=order.day,
            meal=order.meal,
            mode=order.mode,
            status=order.status,
            price_cents=order.price_cents,
            subsidy_cents=order.subsidy_cents,
            payable_cents=order.payable_cents,
            subsidy_category_id=order.subsidy_category_id,
            ordered_by=order.ordered_by,
            standing_order_id=order.standing_order_id,
            cutoff_at=closes,
            window_start=clock(service.window_start) if service else "",
            window_end=clock(service.window_end) if service else "",
            created_at=order.created_at,
            cancelled_at=order.cancelled_at,
        )

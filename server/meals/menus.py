"""A meal point's settings and menus: saving them, copying last week's, and showing them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from protocol import Lang
from server.errors import Conflict
from server.meals.ordering import PointContext, point_context, service_of
from server.meals.rules import clock, cutoff_at, join, minutes, split, weekdays
from server.meals.schemas import (
    DishPublic,
    MenuIn,
    MenuPublic,
    PointPublic,
    PointSettingsIn,
    ServicePublic,
)
from server.models import (
    Dish,
    MealMenu,
    MealOrder,
    MealPointSettings,
    MealService,
    ServicePoint,
    User,
    utcnow,
)
from server.web.i18n import translate


def dish_name(dish: Dish, lang: Lang) -> str:
    """The set meal's name in ``lang``."""
    return dish.name_zh if lang is Lang.ZH else dish.name_en


def save_settings(db: Session, point: ServicePoint, body: PointSettingsIn) -> None:
    """Replace the point's settings and the meals it serves."""
    settings = db.get(MealPointSettings, point.id)
    if settings is None:
        settings = MealPointSettings(service_point_id=point.id)
        db.add(settings)
    settings.phone = body.phone
    settings.open_days = join(str(d) for d in body.open_days)
    settings.dine_in, settings.delivery = body.dine_in, body.delivery
    settings.delivery_radius_m = body.delivery_radius_m if body.delivery else 0
    settings.updated_at = utcnow()
    db.execute(delete(MealService).where(MealService.service_point_id == point.id))
    for s in body.services:
        db.add(
            MealService(
                service_point_id=point.id,
                meal=s.meal,
                cutoff_days_before=s.cutoff_days_before,
                cutoff_minute=minutes(s.cutoff_time),
                portions=s.portions,
                window_start=minutes(s.window_start),
                window_end=minutes(s.window_end),
            )
        )
    db.flush()


def point_public(db: Session, point_id: int) -> PointPublic:
    """The point with its settings (NotFound when it has none yet)."""
    ctx = point_context(db, point_id)
    services = db.scalars(
        select(MealService)
        .where(MealService.service_point_id == point_id)
        .order_by(MealService.meal.desc())  # lunch before dinner
    )
    return PointPublic(
        id=ctx.point.id,
        name=ctx.point.name,
        address=ctx.point.address,
        phone=ctx.settings.phone,
        latitude=ctx.point.latitude,
        longitude=ctx.point.longitude,
        timezone=ctx.zone.key,
        open_days=weekdays(ctx.settings.open_days),
        dine_in=ctx.settings.dine_in,
        delivery=ctx.settings.delivery,
        delivery_radius_m=ctx.settings.delivery_radius_m,
        services=[
            ServicePublic(
                meal=s.meal,
                cutoff_days_before=s.cutoff_days_before,
                cutoff_time=clock(s.cutoff_minute),
                portions=s.portions,
                window_start=clock(s.window_start),
                window_end=clock(s.window_end),
            )
            for s in services
        ],
    )


def dishes_of(db: Session, menu_id: int) -> list[Dish]:
    """The menu's set meals in their order."""
    return list(db.scalars(select(Dish).where(Dish.menu_id == menu_id).order_by(Dish.position)))


def dish_public(dish: Dish, lang: Lang) -> DishPublic:
    """A set meal as the API shows it."""
    return DishPublic(
        id=dish.id,
        position=dish.position,
        name=dish_name(dish, lang),
        name_zh=dish.name_zh,
        name_en=dish.name_en,
        price_cents=dish.price_cents,
        tags=split(dish.tags),
        allergens=split(dish.allergens),
    )


def menu_public(db: Session, ctx: PointContext, menu: MealMenu, lang: Lang) -> MenuPublic:
    """A menu with its set meals and when its orders close."""
    service = service_of(db, ctx.point.id, menu.meal)
    closes = (
        cutoff_at(service, menu.day, ctx.zone)
        if service is not None
        else utcnow().replace(microsecond=0)
    )
    return MenuPublic(
        id=menu.id,
        service_point_id=menu.service_point_id,
        day=menu.day,
        meal=menu.meal,
        portions=menu.portions,
        ordered=menu.ordered,
        cutoff_at=closes,
        dishes=[dish_public(d, lang) for d in dishes_of(db, menu.id)],
    )


def publish(db: Session, user: User, ctx: PointContext, body: MenuIn) -> MealMenu:
    """Publish (or replace) the menu of a day and meal. A menu already ordered from keeps its
    set meals: only its portions change (never below what is ordered)."""
    service = service_of(db, ctx.point.id, body.meal)
    if service is None or body.day.weekday() not in weekdays(ctx.settings.open_days):
        raise Conflict(translate(user.lang, "meals.not_serving"))
    portions = body.portions if body.portions is not None else service.portions
    menu = db.scalar(
        select(MealMenu)
        .where(
            MealMenu.service_point_id == ctx.point.id,
            MealMenu.day == body.day,
            MealMenu.meal == body.meal,
        )
        .with_for_update()
    )
    if menu is None:
        menu = MealMenu(
            service_point_id=ctx.point.id,
            day=body.day,
            meal=body.meal,
            portions=portions,
            ordered=0,
            published_by=user.id,
            published_at=utcnow(),
        )
        db.add(menu)
        db.flush()
    else:
        taken = db.scalar(select(func.count(MealOrder.id)).where(MealOrder.menu_id == menu.id))
        if taken or portions < menu.ordered:
            raise Conflict(translate(user.lang, "meals.menu_has_orders"))
        menu.portions, menu.published_by, menu.published_at = portions, user.id, utcnow()
        db.execute(delete(Dish).where(Dish.menu_id == menu.id))
    for position, dish in enumerate(body.dishes, start=1):
        db.add(
            Dish(
                menu_id=menu.id,
                position=position,
                name_zh=dish.name_zh,
                name_en=dish.name_en,
                price_cents=dish.price_cents,
                tags=join(dish.tags),
                allergens=join(dish.allergens),
            )
        )
    db.flush()
    return menu


def copy_week(db: Session, user: User, ctx: PointContext, monday: date) -> tuple[int, int]:
    """Copy the menus of the week from ``monday`` to the week after; days that have a menu
    already keep it. (copied, kept)."""
    copied = kept = 0
    menus = db.scalars(
        select(MealMenu).where(
            MealMenu.service_point_id == ctx.point.id,
            MealMenu.day >= monday,
            MealMenu.day < monday + timedelta(days=7),
        )
    ).all()
    for menu in menus:
        day = menu.day + timedelta(days=7)
        exists = db.scalar(
            select(MealMenu.id).where(
                MealMenu.service_point_id == ctx.point.id,
                MealMenu.day == day,
                MealMenu.meal == menu.meal,
            )
        )
        if exists is not None:
            kept += 1
            continue
        service = service_of(db, ctx.point.id, menu.meal)
        new = MealMenu(
            service_point_id=ctx.point.id,
            day=day,
            meal=menu.meal,
            portions=service.portions if service is not None else menu.portions,
            ordered=0,
            published_by=user.id,
            published_at=utcnow(),
        )
        db.add(new)
        db.flush()
        for dish in dishes_of(db, menu.id):
            db.add(
                Dish(
                    menu_id=new.id,
                    position=dish.position,
                    name_zh=dish.name_zh,
                    name_en=dish.name_en,
                    price_cents=dish.price_cents,
                    tags=dish.tags,
                    allergens=dish.allergens,
                )
            )
        copied += 1
    db.flush()
    return copied, kept

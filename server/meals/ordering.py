"""The ordering engine: orders, changes and cancellations that never sell a portion twice.

The menu's row is the meal's portion counter. An order raises it with one conditional
``UPDATE … SET ordered = ordered + 1 WHERE ordered < portions``: on PostgreSQL the UPDATE takes
the row's lock (racers wait, then see the new count); on SQLite it is the transaction's first
write, which takes the database's write lock (the reads before it ran outside any
transaction). The table's CHECK ``ordered <= portions`` refuses anything past it even if a path
forgot the condition. Then the elder's live order for that meal is looked for under the lock;
the unique ``(elder_id, day, meal, live)`` backs that check up.

Times: orders close at the meal's cut-off in the meal point's zone (its area's); a change or a
cancellation after it is `TooLate`, naming the point's phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol import Lang
from server.errors import Conflict, InvalidInput, NotFound
from server.meals.errors import AlreadyOrdered, SoldOut, TooLate
from server.meals.nearby import distance_m
from server.meals.rules import Money, cutoff_at, is_safe, money, point_zone
from server.models import (
    Dish,
    Elder,
    ElderDiet,
    ElderSubsidy,
    Meal,
    MealMenu,
    MealMode,
    MealOrder,
    MealOrderStatus,
    MealPointSettings,
    MealService,
    OrderedBy,
    ServiceArea,
    ServicePoint,
    SubsidyCategory,
)
from server.web.i18n import translate


@dataclass(frozen=True)
class Orderer:
    """Who orders: the elder's box, family, an operator or a standing order; ``sender`` scopes
    idempotency keys ("user:7", "device:3", "standing:2")."""

    kind: OrderedBy
    sender: str
    lang: Lang
    user_id: int | None = None
    device_id: int | None = None
    standing_order_id: int | None = None


@dataclass(frozen=True)
class PointContext:
    """A meal point with its settings and zone."""

    point: ServicePoint
    settings: MealPointSettings
    zone: ZoneInfo


def point_context(db: Session, point_id: int) -> PointContext:
    """The active meal point with its settings; NotFound if it has none."""
    point = db.get(ServicePoint, point_id)
    settings = db.get(MealPointSettings, point_id)
    if point is None or not point.is_active or settings is None:
        raise NotFound(f"no meal point {point_id} taking orders")
    area = db.get(ServiceArea, point.service_area_id) if point.service_area_id else None
    return PointContext(point, settings, point_zone(area))


def service_of(db: Session, point_id: int, meal: Meal) -> MealService | None:
    """How the point serves ``meal``, if it does."""
    return db.scalar(
        select(MealService).where(
            MealService.service_point_id == point_id, MealService.meal == meal
        )
    )


def check_open(
    db: Session, lang: Lang, ctx: PointContext, day: date, meal: Meal, now: datetime
) -> MealService:
    """The meal's service if it may still be ordered or changed; `TooLate` past its cut-off."""
    service = service_of(db, ctx.point.id, meal)
    if service is None:
        raise InvalidInput(translate(lang, "meals.not_serving"))
    if now >= cutoff_at(service, day, ctx.zone):
        raise TooLate(lang, ctx.point.name, ctx.settings.phone)
    return service


def categories_of(db: Session, elder: Elder) -> list[SubsidyCategory]:
    """The elder's subsidy categories of their own area."""
    return list(
        db.scalars(
            select(SubsidyCategory)
            .join(ElderSubsidy, ElderSubsidy.category_id == SubsidyCategory.id)
            .where(
                ElderSubsidy.elder_id == elder.id,
                SubsidyCategory.service_area_id == elder.service_area_id,
            )
        )
    )


def price_for(db: Session, elder: Elder, dish: Dish) -> Money:
    """What ``dish`` costs ``elder`` now (price, subsidy, payable)."""
    return money(dish.price_cents, categories_of(db, elder))


def _check_dish(
    db: Session, lang: Lang, elder: Elder, dish: Dish, ctx: PointContext, mode: MealMode
) -> None:
    if not is_safe(dish, db.get(ElderDiet, elder.id)):
        raise InvalidInput(translate(lang, "meals.allergen", elder=elder.name))
    settings = ctx.settings
    if (mode is MealMode.DINE_IN and not settings.dine_in) or (
        mode is MealMode.DELIVERY and not settings.delivery
    ):
        raise InvalidInput(translate(lang, "meals.mode_not_offered"))
    if mode is MealMode.DELIVERY:
        far = distance_m(elder.latitude, elder.longitude, ctx.point.latitude, ctx.point.longitude)
        if far is not None and far > settings.delivery_radius_m:
            raise InvalidInput(translate(lang, "meals.out_of_range"))


def _retried(db: Session, orderer: Orderer, key: str, elder_id: int) -> MealOrder | None:
    first = db.scalar(
        select(MealOrder)
        .where(MealOrder.sender == orderer.sender, MealOrder.idempotency_key == key)
        .execution_options(populate_existing=True)
    )
    if first is not None and first.elder_id != elder_id:
        raise Conflict(translate(orderer.lang, "meals.key_reused"))
    return first


def dish_and_menu(db: Session, dish_id: int) -> tuple[Dish, MealMenu]:
    """A set meal and its menu; NotFound otherwise."""
    dish = db.get(Dish, dish_id)
    menu = db.get(MealMenu, dish.menu_id) if dish is not None else None
    if dish is None or menu is None:
        raise NotFound(f"no set meal {dish_id}")
    return dish, menu


def live_order(db: Session, elder_id: int, day: date, meal: Meal) -> MealOrder | None:
    """The elder's live order for that day and meal, read afresh."""
    return db.scalar(
        select(MealOrder)
        .where(
            MealOrder.elder_id == elder_id,
            MealOrder.day == day,
            MealOrder.meal == meal,
            MealOrder.live == 1,
        )
        .execution_options(populate_existing=True)
    )


def place(
    db: Session,
    orderer: Orderer,
    elder: Elder,
    dish_id: int,
    mode: MealMode,
    key: str,
    now: datetime,
) -> tuple[MealOrder, bool]:
    """Order the set meal for the elder; (the order, True) or, for a retried key, (the first,
    False). Raises `TooLate`, `SoldOut`, `AlreadyOrdered`, or 422 for an allergen, a mode the
    point does not offer or an address outside its delivery radius."""
    first = _retried(db, orderer, key, elder.id)
    if first is not None:
        return first, False
    dish, menu = dish_and_menu(db, dish_id)
    ctx = point_context(db, menu.service_point_id)
    check_open(db, orderer.lang, ctx, menu.day, menu.meal, now)
    _check_dish(db, orderer.lang, elder, dish, ctx, mode)
    raised = db.execute(
        update(MealMenu)
        .where(MealMenu.id == menu.id, MealMenu.ordered < MealMenu.portions)
        .values(ordered=MealMenu.ordered + 1)
        .execution_options(synchronize_session=False)
    )
    # Under the lock now: a racing retry of this key, or another order of the elder's.
    first = _retried(db, orderer, key, elder.id)
    if first is not None:
        db.rollback()
        return first, False
    if raised.rowcount != 1:  # type: ignore[attr-defined]
        raise SoldOut(orderer.lang)
    if live_order(db, elder.id, menu.day, menu.meal) is not None:
        raise AlreadyOrdered(orderer.lang, elder.name)
    cost = price_for(db, elder, dish)
    order = MealOrder(
        elder_id=elder.id,
        service_point_id=menu.service_point_id,
        menu_id=menu.id,
        dish_id=dish.id,
        day=menu.day,
        meal=menu.meal,
        mode=mode,
        status=MealOrderStatus.ORDERED,
        live=1,
        price_cents=cost.price_cents,
        subsidy_cents=cost.subsidy_cents,
        payable_cents=cost.payable_cents,
        subsidy_category_id=cost.category_id,
        ordered_by=orderer.kind,
        ordered_by_user_id=orderer.user_id,
        ordered_by_device_id=orderer.device_id,
        standing_order_id=orderer.standing_order_id,
        sender=orderer.sender,
        idempotency_key=key,
        created_at=now,
        updated_at=now,
    )
    db.add(order)
    try:
        db.flush()
    except IntegrityError as err:  # the unique live order: only if a path forgot the lock
        raise AlreadyOrdered(orderer.lang, elder.name) from err
    return order, True


def change(
    db: Session,
    lang: Lang,
    order: MealOrder,
    dish_id: int | None,
    mode: MealMode | None,
    now: datetime,
) -> MealOrder:
    """Another set meal of the same menu, or another mode, until the cut-off."""
    ctx = point_context(db, order.service_point_id)
    check_open(db, lang, ctx, order.day, order.meal, now)
    # Under the order's lock (SQLite: the write lock first), so a racing cancel is seen.
    db.execute(
        update(MealOrder)
        .where(MealOrder.id == order.id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.refresh(order)
    if order.status is not MealOrderStatus.ORDERED:
        raise Conflict(translate(lang, "meals.not_open"))
    elder = db.get(Elder, order.elder_id)
    assert elder is not None
    dish = db.get(Dish, dish_id if dish_id is not None else order.dish_id)
    if dish is None or dish.menu_id != order.menu_id:
        raise NotFound(f"no set meal {dish_id} on this order's menu")
    new_mode = mode or order.mode
    _check_dish(db, lang, elder, dish, ctx, new_mode)
    cost = price_for(db, elder, dish)
    order.dish_id, order.mode = dish.id, new_mode
    order.price_cents, order.subsidy_cents = cost.price_cents, cost.subsidy_cents
    order.payable_cents, order.subsidy_category_id = cost.payable_cents, cost.category_id
    order.updated_at = now
    db.flush()
    return order


def cancel(db: Session, lang: Lang, order_id: int, now: datetime, *, late_ok: bool = False) -> bool:
    """Cancel a live order and free its portion; False if it was not live any more.

    `TooLate` after the cut-off unless ``late_ok`` (the meal point itself cancelling)."""
    found = db.execute(
        select(MealOrder.service_point_id, MealOrder.day, MealOrder.meal, MealOrder.menu_id).where(
            MealOrder.id == order_id
        )
    ).first()
    if found is None:
        raise NotFound(f"no meal order {order_id}")
    point_id, day, meal, menu_id = found
    if not late_ok:
        check_open(db, lang, point_context(db, point_id), day, meal, now)
    # The counter's row first (the write lock on SQLite), then the order read afresh.
    db.execute(
        update(MealMenu)
        .where(MealMenu.id == menu_id)
        .values(ordered=MealMenu.ordered)
        .execution_options(synchronize_session=False)
    )
    order = db.scalar(
        select(MealOrder)
        .where(MealOrder.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert order is not None
    if order.status is not MealOrderStatus.ORDERED:
        return False
    order.status, order.live = MealOrderStatus.CANCELLED, None
    order.cancelled_at = order.updated_at = now
    db.execute(
        update(MealMenu)
        .where(MealMenu.id == menu_id)
        .values(ordered=MealMenu.ordered - 1)
        .execution_options(synchronize_session=False)
    )
    db.flush()
    return True

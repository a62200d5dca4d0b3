"""Community meals: a meal point's service, its menus of set meals, elders' diets, subsidy
categories, orders and standing orders.

Two rules hold whatever races: a menu is never ordered past its portions (the CHECK on
``meal_menus`` and a row lock on the menu, like slots in appointments), and an elder has at
most one live order per day and meal (the unique ``live`` column: 1 while live, NULL once
cancelled, and NULLs never clash). Every order keeps the price, the subsidy and the payable
amount, in integer cents (fen), as they were when it was made.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, str_enum, utcnow


class Meal(StrEnum):
    """Which meal of the day."""

    LUNCH = "lunch"
    DINNER = "dinner"


class DishTag(StrEnum):
    """What a set meal suits."""

    LOW_SALT = "low_salt"
    LOW_SUGAR = "low_sugar"  # fits a diabetic diet
    SOFT = "soft"  # soft or minced
    VEGETARIAN = "vegetarian"


class Allergen(StrEnum):
    """The major food allergens a dish may contain."""

    PEANUT = "peanut"
    TREE_NUT = "tree_nut"
    EGG = "egg"
    MILK = "milk"
    SOY = "soy"
    WHEAT = "wheat"
    FISH = "fish"
    SHELLFISH = "shellfish"
    SESAME = "sesame"


class MealMode(StrEnum):
    """Where the elder eats."""

    DINE_IN = "dine_in"
    DELIVERY = "delivery"


class MealOrderStatus(StrEnum):
    """Where an order stands."""

    ORDERED = "ordered"
    CANCELLED = "cancelled"
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"
    NOT_HOME = "not_home"  # the delivery found nobody at home


class OrderedBy(StrEnum):
    """Who made the order."""

    ELDER_BOX = "elder_box"
    FAMILY = "family"
    OPERATOR = "operator"
    STANDING = "standing"  # materialised from a standing order


class MealPointSettings(Base):
    """How a meal point (a `ServicePoint` of kind meal point) serves: one row per point."""

    __tablename__ = "meal_point_settings"
    __table_args__ = (
        CheckConstraint("delivery_radius_m >= 0", name="radius"),
        CheckConstraint("dine_in OR delivery", name="modes"),
    )

    service_point_id: Mapped[int] = mapped_column(
        ForeignKey("service_points.id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str] = mapped_column(String(40), default="")
    open_days: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4")  # Monday 0
    dine_in: Mapped[bool] = mapped_column(Boolean, default=True)
    delivery: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_radius_m: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MealService(Base):
    """One meal a point serves: its order cut-off, portions and serving window (local time)."""

    __tablename__ = "meal_services"
    __table_args__ = (
        UniqueConstraint("service_point_id", "meal"),
        CheckConstraint("cutoff_days_before >= 0 AND cutoff_days_before <= 7", name="cutoff_days"),
        CheckConstraint("cutoff_minute >= 0 AND cutoff_minute < 1440", name="cutoff_minute"),
        CheckConstraint("portions >= 0", name="portions"),
        CheckConstraint(
            "window_start >= 0 AND window_end <= 1440 AND window_start < window_end",
            name="window",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int] = mapped_column(
        ForeignKey("service_points.id", ondelete="CASCADE")
    )
    meal: Mapped[Meal] = mapped_column(str_enum(Meal))
    # Orders close at ``cutoff_minute`` (after local midnight) ``cutoff_days_before`` days
    # before the meal's day: 1 and 17:00 is "17:00 the day before".
    cutoff_days_before: Mapped[int] = mapped_column(Integer, default=1)
    cutoff_minute: Mapped[int] = mapped_column(Integer, default=17 * 60)
    portions: Mapped[int] = mapped_column(Integer, default=50)
    # When the meal is served at the point and delivered (minutes after local midnight).
    window_start: Mapped[int] = mapped_column(Integer, default=11 * 60)
    window_end: Mapped[int] = mapped_column(Integer, default=12 * 60 + 30)


class MealMenu(Base):
    """A point's menu of one day and meal; its row is the portion counter of that meal."""

    __tablename__ = "meal_menus"
    __table_args__ = (
        UniqueConstraint("service_point_id", "day", "meal"),
        CheckConstraint("ordered >= 0 AND ordered <= portions", name="portions"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    day: Mapped[date] = mapped_column(Date)
    meal: Mapped[Meal] = mapped_column(str_enum(Meal))
    portions: Mapped[int] = mapped_column(Integer)
    ordered: Mapped[int] = mapped_column(Integer, default=0)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Dish(Base):
    """One set meal of a menu."""

    __tablename__ = "meal_dishes"
    __table_args__ = (
        UniqueConstraint("menu_id", "position"),
        CheckConstraint("price_cents >= 0", name="price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    menu_id: Mapped[int] = mapped_column(ForeignKey("meal_menus.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    price_cents: Mapped[int] = mapped_column(Integer)
    tags: Mapped[str] = mapped_column(String(80), default="")  # "low_salt,soft"
    allergens: Mapped[str] = mapped_column(String(120), default="")  # "egg,soy"


class ElderDiet(Base):
    """An elder's diet, allergies and preferred meal point (set by family or doctor)."""

    __tablename__ = "elder_diets"

    elder_id: Mapped[int] = mapped_column(
        ForeignKey("elders.id", ondelete="CASCADE"), primary_key=True
    )
    diabetic: Mapped[bool] = mapped_column(Boolean, default=False)
    low_salt: Mapped[bool] = mapped_column(Boolean, default=False)
    soft: Mapped[bool] = mapped_column(Boolean, default=False)
    vegetarian: Mapped[bool] = mapped_column(Boolean, default=False)
    allergens: Mapped[str] = mapped_column(String(120), default="")
    preferred_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_points.id", ondelete="SET NULL")
    )
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SubsidyCategory(Base):
    """A public meal subsidy of a service area: a fixed amount or a percentage per meal."""

    __tablename__ = "subsidy_categories"
    __table_args__ = (
        UniqueConstraint("service_area_id", "code"),
        CheckConstraint("(amount_cents IS NULL) <> (percent IS NULL)", name="amount_or_percent"),
        CheckConstraint("amount_cents IS NULL OR amount_cents >= 0", name="amount"),
        CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)", name="percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_area_id: Mapped[int] = mapped_column(ForeignKey("service_areas.id"))
    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    amount_cents: Mapped[int | None] = mapped_column(Integer)
    percent: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class ElderSubsidy(Base):
    """An elder belongs to a subsidy category (set by the area's operator)."""

    __tablename__ = "elder_subsidies"

    elder_id: Mapped[int] = mapped_column(
        ForeignKey("elders.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("subsidy_categories.id", ondelete="CASCADE"), primary_key=True
    )


class StandingOrder(Base):
    """ "Lunch every weekday, the low-salt set": made into orders by a sweep before cut-off."""

    __tablename__ = "meal_standing_orders"
    __table_args__ = (Index("ix_meal_standing_orders_elder", "elder_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"))
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    meal: Mapped[Meal] = mapped_column(str_enum(Meal))
    weekdays: Mapped[str] = mapped_column(String(20))  # "0,1,2,3,4"
    tag: Mapped[str] = mapped_column(String(20), default="")  # the set meal preferred, if any
    mode: Mapped[MealMode] = mapped_column(str_enum(MealMode))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StandingSkip(Base):
    """A day the elder skips their standing order."""

    __tablename__ = "meal_standing_skips"

    standing_order_id: Mapped[int] = mapped_column(
        ForeignKey("meal_standing_orders.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class MealOrder(Base):
    """One meal ordered for an elder, with the money as it was when ordered."""

    __tablename__ = "meal_orders"
    __table_args__ = (
        # A retried order (same sender, same key) finds the first one.
        UniqueConstraint("sender", "idempotency_key"),
        # One live order per elder, day and meal: ``live`` is 1, or NULL once cancelled.
        UniqueConstraint("elder_id", "day", "meal", "live"),
        CheckConstraint(
            "subsidy_cents >= 0 AND subsidy_cents <= price_cents "
            "AND payable_cents = price_cents - subsidy_cents",
            name="money",
        ),
        Index("ix_meal_orders_point_day", "service_point_id", "day", "meal"),
        Index("ix_meal_orders_elder_day", "elder_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id"))
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    menu_id: Mapped[int] = mapped_column(ForeignKey("meal_menus.id"))
    dish_id: Mapped[int] = mapped_column(ForeignKey("meal_dishes.id"))
    day: Mapped[date] = mapped_column(Date)
    meal: Mapped[Meal] = mapped_column(str_enum(Meal))
    mode: Mapped[MealMode] = mapped_column(str_enum(MealMode))
    status: Mapped[MealOrderStatus] = mapped_column(
        str_enum(MealOrderStatus), default=MealOrderStatus.ORDERED
    )
    live: Mapped[int | None] = mapped_column(Integer, default=1)
    price_cents: Mapped[int] = mapped_column(Integer)
    subsidy_cents: Mapped[int] = mapped_column(Integer)
    payable_cents: Mapped[int] = mapped_column(Integer)
    subsidy_category_id: Mapped[int | None] = mapped_column(ForeignKey("subsidy_categories.id"))
    ordered_by: Mapped[OrderedBy] = mapped_column(str_enum(OrderedBy))
    ordered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ordered_by_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    standing_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("meal_standing_orders.id", ondelete="SET NULL")
    )
    sender: Mapped[str] = mapped_column(String(40))  # "user:7", "device:3", "standing:2"
    idempotency_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

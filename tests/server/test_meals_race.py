"""No portion sold twice, whatever races: thirty elders ordering the last portion at once, and
one elder's meal ordered from two places at once, on SQLite and on PostgreSQL (both, whatever
the suite's backend)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from protocol import ErrorCode, Lang
from server.core.db import Database
from server.errors import AppError
from server.meals.ordering import Orderer, place
from server.models import Elder, MealMenu, MealMode, MealOrder, OrderedBy, ServiceArea, utcnow
from tests.server.meals_world import make_meal_point, make_menu
from tests.support.databases import migrated_database
from tests.support.world import make_elder

RACERS = 30


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database of each kind."""
    with migrated_database(tmp_path, request.param) as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


def _race(count: int, attempt: Callable[[int], None]) -> list[str]:
    """Run ``attempt(i)`` for every i at once; each one's outcome ("ok" or its error code)."""
    start = threading.Barrier(count)

    def one(i: int) -> str:
        start.wait(timeout=30)
        try:
            attempt(i)
        except AppError as err:
            return str(err.code)
        return "ok"

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _menu(database: Database, portions: int) -> tuple[int, int]:
    """A lunch menu three days on with ``portions`` left; (menu id, a set meal id)."""
    with database.session() as db:
        area = ServiceArea(name="Race area")
        db.add(area)
        db.flush()
        mp = make_meal_point(db, area.id)
        menu_id, dishes = make_menu(db, mp, utcnow().date() + timedelta(days=3), portions=portions)
        return menu_id, dishes["Mixed vegetables"]


def _orderer(n: int) -> Orderer:
    return Orderer(OrderedBy.FAMILY, f"user:{n}", Lang.EN)


def test_thirty_orders_of_the_last_portion_give_exactly_one(database: Database) -> None:
    menu_id, dish_id = _menu(database, portions=1)
    with database.session() as db:
        elders = [make_elder(db).id for _ in range(RACERS)]

    def attempt(i: int) -> None:
        with database.session() as db:
            elder = db.get(Elder, elders[i])
            assert elder is not None
            place(db, _orderer(i), elder, dish_id, MealMode.DINE_IN, uuid.uuid4().hex, utcnow())

    outcomes = _race(RACERS, attempt)
    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count(ErrorCode.SOLD_OUT) == RACERS - 1, set(outcomes)
    with database.session() as db:
        menu = db.get(MealMenu, menu_id)
        assert menu is not None and menu.ordered == 1
        assert db.scalar(select(func.count(MealOrder.id))) == 1


def test_one_elders_lunch_ordered_from_many_places_at_once_is_ordered_once(
    database: Database,
) -> None:
    menu_id, dish_id = _menu(database, portions=20)
    with database.session() as db:
        elder_id = make_elder(db).id

    def attempt(i: int) -> None:
        with database.session() as db:
            elder = db.get(Elder, elder_id)
            assert elder is not None
            # The family, an operator and the box, each with its own key.
            place(db, _orderer(i), elder, dish_id, MealMode.DINE_IN, uuid.uuid4().hex, utcnow())

    outcomes = _race(8, attempt)
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) == {"ok", ErrorCode.CONFLICT}, outcomes
    with database.session() as db:
        menu = db.get(MealMenu, menu_id)
        assert menu is not None and menu.ordered == 1  # the refused ones gave theirs back


def test_a_retried_box_order_is_stored_once(database: Database) -> None:
    menu_id, dish_id = _menu(database, portions=5)
    with database.session() as db:
        elder_id = make_elder(db).id
    box = Orderer(OrderedBy.ELDER_BOX, "device:7", Lang.ZH, device_id=None)

    def attempt(i: int) -> None:
        with database.session() as db:
            elder = db.get(Elder, elder_id)
            assert elder is not None
            place(db, box, elder, dish_id, MealMode.DINE_IN, "outbox-key-1", utcnow())

    assert _race(8, attempt) == ["ok"] * 8
    with database.session() as db:
        menu = db.get(MealMenu, menu_id)
        assert menu is not None and menu.ordered == 1
        assert db.scalar(select(func.count(MealOrder.id))) == 1


def test_the_database_refuses_a_menu_past_its_portions(database: Database) -> None:
    """The CHECK holds even for a write that skips the engine."""
    menu_id, _ = _menu(database, portions=1)
    with pytest.raises(Exception, match="(?i)check"), database.session() as db:
        menu = db.get(MealMenu, menu_id)
        assert menu is not None
        menu.ordered = 2
        db.flush()

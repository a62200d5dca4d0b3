"""The meals controller with plain pytest and a fake clock: the tile reads what is ordered and
tomorrow's menu aloud with the price to pay, OK orders through the outbox with a spoken time,
changing, cancelling and skipping until the cut-off, "too late, call …" after it, a refusal
from the server shown and said, and the list kept for offline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from protocol import (
    CallKind,
    CallRinging,
    ErrorCode,
    Lang,
    MealCancel,
    MealChange,
    MealDishInfo,
    MealOfferInfo,
    MealOrder,
    MealOrderInfo,
    MealRefused,
    Meals,
    MealSkip,
    Message,
)
from tests.support.viewmodels import ELDER, RecordingSpeaker
from tvbox.box import AppViewModel
from tvbox.context import Clock
from tvbox.events import LinkState, LinkStateChanged, ServerMessage
from tvbox.home.view import Tile
from tvbox.meals.controller import MEAL_MENU, MEAL_ORDER, MEALS, MealsController
from tvbox.outbox import Outbox
from tvbox.store import BoxStore
from tvbox.ui.keys import RemoteAction

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
TOMORROW = date(2026, 12, 8)
CUTOFF = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 17:00 in Shanghai
EN_ELDER = ELDER.model_copy(update={"lang": Lang.EN})


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW


def offer(**changes: object) -> MealOfferInfo:
    base = MealOfferInfo(
        day=TOMORROW,
        point_name="Riverside Canteen",
        point_phone="021-5555-0101",
        mode="delivery",
        cutoff_at=CUTOFF,
        open=True,
        window_start="11:30",
        window_end="12:30",
        dishes=[
            MealDishInfo(dish_id=11, name="Low-salt fish set", payable_cents=800),
            MealDishInfo(dish_id=12, name="Tofu and greens", payable_cents=750),
            MealDishInfo(dish_id=13, name="Braised pork set", payable_cents=1200, fits_diet=False),
        ],
    )
    return base.model_copy(update=changes)


def order(order_id: int = 5, day: date = TOMORROW, **changes: object) -> MealOrderInfo:
    base = MealOrderInfo(
        id=order_id,
        day=day,
        meal="lunch",
        dish_name="Low-salt fish set",
        mode="delivery",
        payable_cents=800,
        window_start="11:30",
        window_end="12:30",
        cutoff_at=CUTOFF if day == TOMORROW else CUTOFF - timedelta(days=1),
    )
    return base.model_copy(update=changes)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_box(
    store: BoxStore, speaker: RecordingSpeaker, clock: FakeClock, lang: Lang = Lang.EN
) -> AppViewModel:
    store.save_pairing(7, "token-7", EN_ELDER.model_copy(update={"lang": lang}))
    box = AppViewModel(
        store,
        Outbox(store),
        speaker,
        lang,
        clock=Clock(now=lambda: clock.now, call_later=lambda d, f: lambda: None),
    )
    box.handle_link_event(LinkStateChanged(LinkState.ONLINE))
    return box


@pytest.fixture
def box(store: BoxStore, speaker: RecordingSpeaker, clock: FakeClock) -> AppViewModel:
    return make_box(store, speaker, clock)


def control(box: AppViewModel) -> MealsController:
    owner = box.router.owner(MEALS)
    assert isinstance(owner, MealsController)
    return owner


def push(box: AppViewModel, message: Message) -> None:
    box.handle_link_event(ServerMessage(message))


def labels(box: AppViewModel) -> list[str]:
    return [c.label for c in control(box).page(box.screen).choices]


def queued(store: BoxStore) -> list[Message]:
    return [item.message for item in Outbox(store).pending()]


def test_the_tile_reads_tomorrows_menu_with_prices_and_ok_orders(
    box: AppViewModel, speaker: RecordingSpeaker, store: BoxStore
) -> None:
    push(box, Meals(elder_id=1, offer=offer()))
    box.activate(Tile.MEALS)
    assert box.screen is MEALS
    assert labels(box) == [
        "Low-salt fish set  ·  8 yuan",
        "Tofu and greens  ·  7.50 yuan",
        "Braised pork set  ·  12 yuan",
        "No meal",
    ]
    said = speaker.last
    assert "Tomorrow's lunch at Riverside Canteen:" in said
    assert "1: Low-salt fish set, you pay 8 yuan." in said
    assert "4: no meal." in said
    box.handle(RemoteAction.DOWN)
    box.handle(RemoteAction.OK)
    sent = queued(store)
    assert len(sent) == 1 and isinstance(sent[0], MealOrder)
    assert sent[0].dish_id == 12 and sent[0].mode == "delivery"
    assert speaker.last == (
        "Ordered: Tofu and greens for tomorrow's lunch, delivered to your home between "
        "11:30 and 12:30. You pay 7.50 yuan."
    )
    # Shown as sending until the server's list has it; then the server's words.
    assert labels(box) == ["Sending… Tomorrow's lunch: Tofu and greens"]
    push(box, Meals(elder_id=1, offer=offer(), orders=[order(dish_name="Tofu and greens")]))
    assert labels(box) == ["Tomorrow's lunch: Tofu and greens"]
    assert control(box).pending == []


def test_no_meal_orders_nothing_and_back_is_safe(
    box: AppViewModel, speaker: RecordingSpeaker, store: BoxStore
) -> None:
    push(box, Meals(elder_id=1, offer=offer()))
    box.activate(Tile.MEALS)
    box.handle(RemoteAction.DIGIT_4)
    assert speaker.last == "No meal tomorrow. Nothing is ordered."
    assert queued(store) == []
    box.handle(RemoteAction.BACK)
    assert box.screen.value == "home"
    assert queued(store) == []


def test_an_order_is_changed_or_cancelled_until_the_cut_off(
    box: AppViewModel, speaker: RecordingSpeaker, store: BoxStore
) -> None:
    push(box, Meals(elder_id=1, offer=offer(), orders=[order()]))
    box.activate(Tile.MEALS)
    assert labels(box) == ["Tomorrow's lunch: Low-salt fish set"]
    assert "Tomorrow's lunch: Low-salt fish set, delivered to your home" in speaker.last
    box.handle(RemoteAction.OK)
    assert box.screen is MEAL_ORDER
    assert labels(box) == ["Keep it", "Choose another set meal", "Cancel this meal"]
    box.handle(RemoteAction.DIGIT_2)
    assert box.screen is MEAL_MENU
    box.handle(RemoteAction.BACK)
    assert box.screen is MEAL_ORDER
    box.handle(RemoteAction.DIGIT_2)
    box.handle(RemoteAction.DIGIT_2)
    change = queued(store)[-1]
    assert isinstance(change, MealChange) and change.order_id == 5 and change.dish_id == 12
    assert speaker.last.startswith("Changed: Tofu and greens for tomorrow's lunch")
    box.handle(RemoteAction.OK)
    box.handle(RemoteAction.DIGIT_3)
    cancel = queued(store)[-1]
    assert isinstance(cancel, MealCancel) and cancel.order_id == 5
    assert speaker.last == "Cancelled: Tomorrow's lunch."
    assert labels(box)[0].startswith("Cancelling…")


def test_after_the_cut_off_the_tv_says_too_late_and_whom_to_call(
    box: AppViewModel, speaker: RecordingSpeaker, store: BoxStore, clock: FakeClock
) -> None:
    push(box, Meals(elder_id=1, offer=offer(), orders=[order()]))
    clock.now = CUTOFF + timedelta(minutes=1)
    box.activate(Tile.MEALS)
    box.handle(RemoteAction.OK)
    assert box.screen is MEALS
    words = (
        "It is too late to change this meal: orders closed at 17:00. "
        "Please call Riverside Canteen on 021-5555-0101."
    )
    assert speaker.last == words
    assert control(box).page(MEALS).body == words
    assert queued(store) == []


def test_the_menu_after_its_cut_off_is_not_offered(
    box: AppViewModel, speaker: RecordingSpeaker, clock: FakeClock
) -> None:
    push(box, Meals(elder_id=1, offer=offer(open=False)))
    box.activate(Tile.MEALS)
    assert labels(box) == []
    assert "orders closed at 17:00. Please call Riverside Canteen on 021-5555-0101." in (
        speaker.last
    )


def test_a_standing_orders_day_is_skipped_from_the_tv(
    box: AppViewModel, speaker: RecordingSpeaker, store: BoxStore
) -> None:
    push(box, Meals(elder_id=1, offer=offer(standing=True)))
    box.activate(Tile.MEALS)
    assert labels(box) == ["Tomorrow's lunch: your usual order"]
    box.handle(RemoteAction.OK)
    assert labels(box) == ["Keep it", "Skip tomorrow's lunch"]
    assert "Keep it, or skip tomorrow's lunch?" in speaker.last
    box.handle(RemoteAction.DIGIT_2)
    skip = queued(store)[-1]
    assert isinstance(skip, MealSkip) and skip.day == TOMORROW and skip.meal == "lunch"
    assert speaker.last == "Tomorrow's lunch is skipped. Your usual order goes on the day after."
    assert box.screen is MEALS


def test_a_refusal_from_the_server_is_shown_and_said(
    box: AppViewModel, speaker: RecordingSpeaker, store: BoxStore
) -> None:
    push(box, Meals(elder_id=1, offer=offer()))
    box.activate(Tile.MEALS)
    box.handle(RemoteAction.OK)
    key = queued(store)[-1].key  # type: ignore[attr-defined]
    box.go_home()
    push(
        box,
        MealRefused(
            key=key,
            code=ErrorCode.SOLD_OUT,
            message="Sorry, tomorrow's lunch is sold out.",
        ),
    )
    assert box.screen is MEALS
    assert speaker.last == "Your meal order was not taken: Sorry, tomorrow's lunch is sold out."
    assert control(box).page(MEALS).body == speaker.last
    assert control(box).pending == []
    # The menu is offered again.
    box.handle(RemoteAction.BACK)
    box.activate(Tile.MEALS)
    assert labels(box)[0] == "Low-salt fish set  ·  8 yuan"


def test_offline_the_stored_list_shows_and_an_order_waits_in_the_outbox(
    store: BoxStore, speaker: RecordingSpeaker, clock: FakeClock
) -> None:
    first = make_box(store, speaker, clock)
    push(first, Meals(elder_id=1, offer=offer(), orders=[order(day=date(2026, 12, 7))]))
    again = make_box(store, speaker, clock)  # a restart
    again.handle_link_event(LinkStateChanged(LinkState.OFFLINE))
    again.activate(Tile.MEALS)
    page = control(again).page(MEALS)
    assert page.body == "Not connected: an order made now is sent when the connection is back."
    assert speaker.last.startswith("Not connected: these are the meals the TV last heard of.")
    assert labels(again)[0] == "Today's lunch: Low-salt fish set"
    again.handle(RemoteAction.DIGIT_2)
    assert speaker.last == (
        "Your order of Low-salt fish set for tomorrow's lunch is kept on the TV "
        "and will be sent when the connection is back."
    )
    assert [type(m) for m in queued(store)] == [MealOrder]
    assert control(make_box(store, speaker, clock)).pending[0].kind == "order"


def test_a_menu_published_while_the_screen_is_shown_is_said_at_once(
    box: AppViewModel, speaker: RecordingSpeaker
) -> None:
    push(box, Meals(elder_id=1, offer=offer(dishes=[])))
    box.activate(Tile.MEALS)
    assert "There is no menu for tomorrow's lunch yet." in speaker.last
    push(box, Meals(elder_id=1, offer=offer()))
    assert "1: Low-salt fish set, you pay 8 yuan." in speaker.last
    assert len(labels(box)) == 4


def test_the_menu_is_read_in_chinese(
    store: BoxStore, speaker: RecordingSpeaker, clock: FakeClock
) -> None:
    box = make_box(store, speaker, clock, Lang.ZH)
    push(box, Meals(elder_id=1, offer=offer(), orders=[order(day=date(2026, 12, 7))]))
    box.activate(Tile.MEALS)
    assert labels(box)[0] == "今天午餐：Low-salt fish set"
    assert "2：Low-salt fish set，您付8元。" in speaker.last
    assert "今天午餐：Low-salt fish set，11:30到12:30之间送到家。您付8元。" in speaker.last


def test_a_refusal_during_a_call_waits_for_the_tile(
    box: AppViewModel, speaker: RecordingSpeaker, store: BoxStore
) -> None:
    push(box, Meals(elder_id=1, offer=offer()))
    box.activate(Tile.MEALS)
    box.handle(RemoteAction.DIGIT_2)
    key = queued(store)[-1].key  # type: ignore[attr-defined]
    push(box, CallRinging(call_id=3, kind=CallKind.FAMILY, caller_name="Li Na"))
    assert box.screen.value == "call"
    push(box, MealRefused(key=key, code=ErrorCode.TOO_LATE, message="Orders are closed."))
    assert box.screen.value == "call"  # a call is never covered
    assert "Orders are closed." not in speaker.last
    # Kept across a restart, shown and said when the Meals tile is opened next.
    again = make_box(store, speaker, FakeClock())
    again.activate(Tile.MEALS)
    assert control(again).page(MEALS).body == "Your meal order was not taken: Orders are closed."
    assert speaker.last == "Your meal order was not taken: Orders are closed."
    again.handle(RemoteAction.BACK)
    again.activate(Tile.MEALS)
    assert "Orders are closed." not in control(again).page(MEALS).body  # said once


def test_back_from_an_order_changes_nothing(
    box: AppViewModel, speaker: RecordingSpeaker, store: BoxStore
) -> None:
    push(box, Meals(elder_id=1, offer=offer(), orders=[order()]))
    box.activate(Tile.MEALS)
    box.handle(RemoteAction.OK)
    box.handle(RemoteAction.DIGIT_2)
    assert box.screen is MEAL_MENU
    for _ in range(3):
        box.handle(RemoteAction.BACK)
    assert box.screen.value == "home"
    assert queued(store) == []
    # An order cancelled elsewhere while its choices are shown: back to the list.
    box.activate(Tile.MEALS)
    box.handle(RemoteAction.OK)
    assert box.screen is MEAL_ORDER
    push(box, Meals(elder_id=1, offer=offer()))
    assert box.screen is MEALS
    assert labels(box)[-1] == "No meal"


def test_todays_meal_closed_yesterday_says_so(box: AppViewModel, speaker: RecordingSpeaker) -> None:
    push(box, Meals(elder_id=1, offer=offer(), orders=[order(day=date(2026, 12, 7))]))
    box.activate(Tile.MEALS)
    box.handle(RemoteAction.DIGIT_1)
    assert speaker.last == (
        "It is too late to change this meal: orders closed at 17:00 yesterday. "
        "Please call Riverside Canteen on 021-5555-0101."
    )

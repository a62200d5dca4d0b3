"""Community meals on the TV. No Kivy.

- The Meals tile opens what is ordered for today and tomorrow (stored on the box, so it shows
  offline too) and, when nothing is ordered for tomorrow, tomorrow's lunch menu at the
  elder's meal point: at most four set meals (the server offers only safe ones, fitting the
  diet first) and "No meal", each read aloud with the price to pay. OK on a set meal orders
  it, and the TV says when and how the meal comes.
- OK on an order: keep it, choose another set meal or cancel it; a standing order's day is
  skipped instead. After the cut-off the TV says plainly it is too late, and whom to call.
- Orders, changes, cancellations and skips go through the outbox: made offline, they are
  sent once the link returns; the server's refusal (past the cut-off, sold out) is shown and
  said, never dropped.
- The server pushes the list at once on any change, whoever made it (family, meal point).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from protocol import (
    MAX_CHOICES,
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
from tvbox.context import FeatureHost
from tvbox.events import LinkState, LinkStateChanged
from tvbox.meals.store import MealStore, Pending
from tvbox.meals.words import day_word, how, local_time, meal_word, price, zone
from tvbox.outbox import Outbox
from tvbox.router import ARROWS, Controller, Screen
from tvbox.speech import Priority
from tvbox.ui.choices import Focus, PageView, choices
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction

MEALS = Screen.MEALS
MEAL_ORDER = Screen("meal_order")
MEAL_MENU = Screen("meal_menu")
# Screens a refusal never covers (calls are checked on their own); it waits for the tile.
DO_NOT_COVER = frozenset({Screen.SOS, Screen.REMINDER, Screen.CALL, Screen.PAIRING})


@dataclass(frozen=True)
class Row:
    """One choice of the Meals screen: an order, a pending order, the standing order's
    day, a set meal of tomorrow's menu, or "No meal"."""

    kind: str  # "order" | "pending" | "standing" | "dish" | "none"
    order: MealOrderInfo | None = None
    pending: Pending | None = None
    dish: MealDishInfo | None = None


class MealsController(Controller):
    """The Meals screen, an order's choices, and the set meals to change to."""

    screens = (MEALS, MEAL_ORDER, MEAL_MENU)

    def __init__(self, ctx: FeatureHost, store: MealStore, outbox: Outbox) -> None:
        self.ctx = ctx
        self.store = store
        self.outbox = outbox
        self.meals: Meals | None = store.meals()
        self.pending: list[Pending] = store.pending()
        self.focus = Focus()
        self.message = ""  # said and shown on the Meals screen (a confirmation, a refusal…)
        self.target: Row | None = None  # the order (or standing day) asked about

    # -- the day and the list ------------------------------------------------------------

    @property
    def zone_name(self) -> str:
        return self.meals.timezone if self.meals else "Asia/Shanghai"

    def today(self) -> date:
        """Today at the meal point."""
        return self.ctx.clock.now().astimezone(zone(self.zone_name)).date()

    @property
    def offer(self) -> MealOfferInfo | None:
        return self.meals.offer if self.meals else None

    def _cancelling(self) -> set[int]:
        return {p.order_id for p in self.pending if p.kind in ("cancel", "skip") and p.order_id}

    def rows(self) -> list[Row]:
        """The Meals screen's choices, at most six."""
        rows: list[Row] = []
        orders = list(self.meals.orders) if self.meals else []
        taken: set[tuple[str, str]] = {(o.day.isoformat(), o.meal) for o in orders}
        rows += [Row("order", order=o) for o in orders]
        for p in self.pending:
            if p.kind == "order" and (p.day, p.meal) not in taken:
                rows.append(Row("pending", pending=p))
                taken.add((p.day, p.meal))
        offer = self.offer
        if offer is None or (offer.day.isoformat(), offer.meal) in taken:
            return rows[:MAX_CHOICES]
        skipped = any(p.kind == "skip" and p.day == offer.day.isoformat() for p in self.pending)
        if offer.standing and not skipped:
            rows.append(Row("standing"))
        elif offer.open and not offer.sold_out and offer.dishes:
            room = MAX_CHOICES - len(rows) - 1
            rows += [Row("dish", dish=d) for d in offer.dishes[: max(room, 0)]]
            rows.append(Row("none"))
        return rows[:MAX_CHOICES]

    def _label(self, row: Row) -> str:
        lang, today = self.ctx.lang, self.today()
        if row.order is not None:
            o = row.order
            key = "meals.row_cancelling" if o.id in self._cancelling() else "meals.row"
            changing = [p for p in self.pending if p.kind == "change" and p.order_id == o.id]
            dish = changing[-1].dish if changing else o.dish_name
            if changing and key == "meals.row":
                key = "meals.row_sending"
            return text(
                lang, key, day=day_word(lang, o.day, today), meal=meal_word(lang, o.meal), dish=dish
            )
        if row.pending is not None:
            p = row.pending
            day = day_word(lang, date.fromisoformat(p.day), today)
            return text(
                lang, "meals.row_sending", day=day, meal=meal_word(lang, p.meal), dish=p.dish
            )
        if row.kind == "standing" and self.offer is not None:
            day = day_word(lang, self.offer.day, today)
            return text(lang, "meals.row_standing", day=day, meal=meal_word(lang, self.offer.meal))
        if row.dish is not None:
            return text(
                lang,
                "meals.dish",
                name=row.dish.name,
                price=price(lang, row.dish.payable_cents),
            )
        return text(lang, "meals.no_meal")

    def _how(self, mode: str, start: str, end: str) -> str:
        point = self.offer.point_name if self.offer else ""
        return how(self.ctx.lang, mode, point, start, end)

    def _line(self, row: Row) -> str:
        """One order said in full."""
        lang, today = self.ctx.lang, self.today()
        offer = self.offer
        if row.order is not None:
            o = row.order
            return text(
                lang,
                "meals.line",
                day=day_word(lang, o.day, today),
                meal=meal_word(lang, o.meal),
                dish=o.dish_name,
                how=self._how(o.mode, o.window_start, o.window_end),
                price=price(lang, o.payable_cents),
            )
        if row.pending is not None and offer is not None:
            p = row.pending
            return text(
                lang,
                "meals.line",
                day=day_word(lang, date.fromisoformat(p.day), today),
                meal=meal_word(lang, p.meal),
                dish=p.dish,
                how=self._how(offer.mode, offer.window_start, offer.window_end),
                price=price(lang, p.payable_cents),
            )
        if row.kind == "standing" and offer is not None:
            return text(
                lang,
                "meals.line_standing",
                day=day_word(lang, offer.day, today),
                meal=meal_word(lang, offer.meal),
                point=offer.point_name,
            )
        return self._label(row)

    def _why_no_menu(self) -> str:
        offer = self.offer
        lang = self.ctx.lang
        if offer is None or not offer.point_name:
            return text(lang, "meals.no_point")
        if offer.sold_out:
            return text(lang, "meals.sold_out")
        if offer.dishes and offer.cutoff_at is not None:
            return self._too_late_words(offer.cutoff_at)
        return text(lang, "meals.no_menu")

    def _menu_intro(self) -> str:
        point = self.offer.point_name if self.offer else ""
        return text(self.ctx.lang, "meals.menu_intro", point=point)

    def _online(self) -> bool:
        return self.ctx.link_state is LinkState.ONLINE

    # -- the router's hooks ----------------------------------------------------------------

    def page(self, screen: Screen) -> PageView:
        """The words of one of this feature's screens."""
        lang = self.ctx.lang
        if screen is MEALS:
            rows = self.rows()
            body = self.message or "\n".join(self._notes(rows, on_screen=True))
            labels = [self._label(r) for r in rows]
            return PageView(
                text(lang, "meals.title"),
                body,
                choices(labels, self.focus.index),
                text(lang, "meals.hint_list"),
            )
        if screen is MEAL_ORDER:
            row = self.target
            body = "" if row is None else self._line(row)
            return PageView(
                text(lang, "meals.order_title"),
                body,
                choices(self._order_labels(), self.focus.index),
                text(lang, "meals.hint_order"),
            )
        dishes = self.offer.dishes if self.offer else []
        labels = [self._label(Row("dish", dish=d)) for d in dishes]
        return PageView(
            text(lang, "meals.change_title"),
            self._menu_intro(),
            choices(labels, self.focus.index),
            text(lang, "meals.hint_menu"),
        )

    def _notes(self, rows: list[Row], on_screen: bool = False) -> list[str]:
        """The Meals screen's lines above its choices: offline, the menu's point, or why
        there is nothing to order (``on_screen``: one short line when choices fill it)."""
        lang = self.ctx.lang
        offline = not self._online()
        if offline and on_screen and len(rows) > 2:
            return [text(lang, "meals.offline_short")]
        notes = [text(lang, "meals.offline_note")] if offline else []
        if any(r.kind == "dish" for r in rows):
            notes.append(self._menu_intro())
        elif not any(self._is_tomorrow(r) for r in rows):
            notes += [text(lang, "meals.nothing"), self._why_no_menu()]
        return notes

    def _is_tomorrow(self, row: Row) -> bool:
        if row.order is not None:
            return row.order.day > self.today()
        if row.pending is not None:
            return date.fromisoformat(row.pending.day) > self.today()
        return row.kind == "standing"

    def _order_actions(self) -> list[str]:
        row = self.target
        if row is None:
            return ["keep"]
        if row.kind == "standing" or (row.order is not None and row.order.standing):
            return ["keep", "skip"]
        offer = self.offer
        can_change = (
            row.order is not None
            and offer is not None
            and row.order.day == offer.day
            and row.order.meal == offer.meal
            and len(offer.dishes) > 1
        )
        return ["keep", "change", "cancel"] if can_change else ["keep", "cancel"]

    def _order_labels(self) -> list[str]:
        return [text(self.ctx.lang, f"meals.{a}") for a in self._order_actions()]

    def prompt(self, screen: Screen) -> str:
        lang = self.ctx.lang
        if screen is MEALS:
            if self.message:
                return self.message
            rows = self.rows()
            parts = [n for n in self._notes(rows) if n != self._menu_intro()]
            lines = " ".join(
                self._line(r) for r in rows if r.kind in ("order", "pending", "standing")
            )
            if lines:
                parts.append(text(lang, "meals.spoken_list", lines=lines))
            dishes = [(i, r) for i, r in enumerate(rows) if r.kind in ("dish", "none")]
            if dishes:
                items = " ".join(self._spoken_choice(i, r) for i, r in dishes)
                parts.append(text(lang, "meals.spoken_menu", intro=self._menu_intro(), items=items))
            return " ".join(parts)
        if screen is MEAL_ORDER and self.target is not None:
            key = (
                "meals.standing_spoken" if "skip" in self._order_actions() else "meals.order_spoken"
            )
            if "change" not in self._order_actions() and key == "meals.order_spoken":
                return f"{self._line(self.target)} {' '.join(self._order_labels())}"
            return text(lang, key, line=self._line(self.target))
        if screen is MEAL_MENU:
            offered = self.offer.dishes if self.offer else []
            items = " ".join(
                self._spoken_choice(i, Row("dish", dish=d)) for i, d in enumerate(offered)
            )
            return text(lang, "meals.spoken_menu", intro=self._menu_intro(), items=items)
        return ""

    def _spoken_choice(self, index: int, row: Row) -> str:
        lang = self.ctx.lang
        if row.dish is not None:
            return text(
                lang,
                "meals.spoken_dish",
                n=index + 1,
                name=row.dish.name,
                price=price(lang, row.dish.payable_cents),
            )
        return text(lang, "meals.spoken_no_meal", n=index + 1)

    def focus_name(self, screen: Screen) -> str | None:
        focused = [c.label for c in self.page(screen).choices if c.focused]
        return focused[0] if focused else None

    def reset(self, screen: Screen) -> None:
        self.focus = Focus()
        self.message = ""
        if screen is MEALS:
            # A refusal that came while something else was on screen is shown now.
            self.message = self.store.refusal()
            self.store.save_refusal("")

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {
            Meals: self._on_meals,
            MealRefused: self._on_refused,
            LinkStateChanged: self._on_link,
        }

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        """Arrows move, OK or a digit chooses, Back goes one step back (changes nothing)."""
        if action is RemoteAction.BACK:
            self.back(screen)
            return True
        page = self.page(screen)
        if action in ARROWS and page.choices:
            if self.focus.move(action, len(page.choices)):
                self.ctx.say(page.choices[self.focus.index].label, Priority.LOW, cut=True)
            return True
        if action is RemoteAction.OK and page.choices:
            self.choose(screen, self.focus.index)
            return True
        if action.digit is not None and 1 <= action.digit <= len(page.choices):
            self.focus.index = action.digit - 1
            self.choose(screen, action.digit - 1)
            return True
        return False

    def snapshot(self) -> dict[str, Any]:
        """The meals and the screen's words, for `/state` (tests and the local API)."""
        page = self.page(self.ctx.screen) if self.ctx.screen in self.screens else None
        return {
            "orders": [o.id for o in self.meals.orders] if self.meals else [],
            "offer": [d.dish_id for d in self.offer.dishes] if self.offer else [],
            "pending": [p.kind for p in self.pending],
            "title": page.title if page else None,
            "body": page.body if page else None,
            "choices": [c.label for c in page.choices] if page else [],
        }

    # -- choosing --------------------------------------------------------------------------

    def open(self) -> None:
        """The Meals tile."""
        self.ctx.show(MEALS, reset=True)

    def back(self, screen: Screen) -> None:
        """Back: from an order's choices or the set meals, the list; from the list, home."""
        self.message = ""
        if screen is MEALS:
            self.ctx.go_home()
        elif screen is MEAL_MENU:
            self.focus = Focus()
            self.ctx.show(MEAL_ORDER)
        else:
            self.target = None
            self.ctx.show(MEALS, reset=True)

    def choose(self, screen: Screen, index: int) -> None:
        """The choice ``index`` of ``screen`` was taken."""
        if screen is MEALS:
            rows = self.rows()
            if index < len(rows):
                self._choose_row(rows[index])
        elif screen is MEAL_ORDER:
            actions = self._order_actions()
            if index < len(actions):
                self._act(actions[index])
        elif screen is MEAL_MENU and self.offer is not None:
            if index < len(self.offer.dishes):
                self._change(self.offer.dishes[index])

    def _choose_row(self, row: Row) -> None:
        if row.kind == "pending" or (row.order is not None and row.order.id in self._cancelling()):
            self.ctx.say(self._label(row), cut=True)
            return
        if row.kind == "dish" and row.dish is not None:
            self._order(row.dish)
            return
        if row.kind == "none":
            self._tell(text(self.ctx.lang, "meals.no_meal_said"))
            return
        cutoff = row.order.cutoff_at if row.order is not None else None
        if cutoff is None and self.offer is not None:
            cutoff = self.offer.cutoff_at
        if cutoff is not None and self.ctx.clock.now() >= cutoff:
            self._tell(self._too_late_words(cutoff))
            return
        self.target = row
        self.focus = Focus()
        self.ctx.show(MEAL_ORDER)

    def _act(self, action: str) -> None:
        row = self.target
        if action == "keep" or row is None:
            self.back(MEAL_ORDER)
        elif action == "change":
            self.focus = Focus()
            self.ctx.show(MEAL_MENU)
        elif action == "cancel" and row.order is not None:
            self._cancel(row.order)
        elif action == "skip":
            self._skip(row)

    def _too_late(self, cutoff: datetime | None) -> bool:
        if cutoff is None or self.ctx.clock.now() < cutoff:
            return False
        self._tell(self._too_late_words(cutoff))
        return True

    def _too_late_words(self, cutoff: datetime) -> str:
        offer = self.offer
        point = offer.point_name if offer else ""
        phone = offer.point_phone if offer else ""
        key = "meals.too_late" if phone else "meals.too_late_no_phone"
        lang = self.ctx.lang
        at = local_time(cutoff, self.zone_name)
        if cutoff.astimezone(zone(self.zone_name)).date() < self.today():
            at = text(lang, "meals.yesterday_at", time=at)
        return text(lang, key, time=at, point=point, phone=phone)

    def _tell(self, words: str) -> None:
        """Show ``words`` on the Meals screen and say them."""
        self.target = None
        self.message = words
        self.focus.clamp(len(self.rows()))
        self.ctx.show(MEALS, None)
        self.ctx.say(words, Priority.HIGH, cut=True)
        self.ctx.changed()

    def _queue(self, message: Message, pending: Pending) -> None:
        self.ctx.send_durable(message)
        self.pending.append(pending)
        self.store.save_pending(self.pending)

    def _order(self, dish: MealDishInfo) -> None:
        offer = self.offer
        if offer is None or self._too_late(offer.cutoff_at):
            return
        key = f"meal:{uuid.uuid4().hex[:20]}"
        self._queue(
            MealOrder(key=key, dish_id=dish.dish_id, mode=offer.mode),
            Pending(
                key, "order", offer.day.isoformat(), offer.meal, dish.name, 0, dish.payable_cents
            ),
        )
        lang = self.ctx.lang
        if self._online():
            words = text(
                lang,
                "meals.ordered",
                dish=dish.name,
                how=self._how(offer.mode, offer.window_start, offer.window_end),
                price=price(lang, dish.payable_cents),
            )
        else:
            words = text(lang, "meals.ordered_offline", dish=dish.name)
        self.focus = Focus()
        self._tell(words)

    def _change(self, dish: MealDishInfo) -> None:
        row = self.target
        offer = self.offer
        if row is None or row.order is None or offer is None:
            return
        if self._too_late(row.order.cutoff_at):
            return
        key = f"meal:{uuid.uuid4().hex[:20]}"
        order = row.order
        self._queue(
            MealChange(key=key, order_id=order.id, dish_id=dish.dish_id),
            Pending(
                key,
                "change",
                order.day.isoformat(),
                order.meal,
                dish.name,
                order.id,
                dish.payable_cents,
            ),
        )
        lang = self.ctx.lang
        words = text(
            lang,
            "meals.changed",
            dish=dish.name,
            how=self._how(order.mode, order.window_start, order.window_end),
            price=price(lang, dish.payable_cents),
        )
        self.focus = Focus()
        self._tell(words)

    def _cancel(self, order: MealOrderInfo) -> None:
        if self._too_late(order.cutoff_at):
            return
        key = f"meal:{uuid.uuid4().hex[:20]}"
        self._queue(
            MealCancel(key=key, order_id=order.id),
            Pending(key, "cancel", order.day.isoformat(), order.meal, order.dish_name, order.id),
        )
        lang = self.ctx.lang
        words = text(
            lang,
            "meals.cancelled",
            day=day_word(lang, order.day, self.today()),
            meal=meal_word(lang, order.meal),
        )
        self.focus = Focus()
        self._tell(words)

    def _skip(self, row: Row) -> None:
        offer = self.offer
        cutoff: datetime | None
        if row.order is not None:
            day, meal, cutoff, order_id = (
                row.order.day,
                row.order.meal,
                row.order.cutoff_at,
                row.order.id,
            )
        elif offer is not None:
            day, meal, cutoff, order_id = offer.day, offer.meal, offer.cutoff_at, 0
        else:
            return
        if self._too_late(cutoff):
            return
        key = f"meal:{uuid.uuid4().hex[:20]}"
        self._queue(
            MealSkip(key=key, day=day, meal=meal),
            Pending(key, "skip", day.isoformat(), meal, "", order_id),
        )
        self.focus = Focus()
        self._tell(text(self.ctx.lang, "meals.skipped"))

    # -- what the server says ----------------------------------------------------------

    def _settled(self, item: Pending, meals: Meals) -> bool:
        sent = self.outbox.get(item.key)
        if sent is None or sent.acked_at is not None:
            return True
        if item.kind == "order":
            return any(o.day.isoformat() == item.day and o.meal == item.meal for o in meals.orders)
        if item.kind == "cancel":
            return item.order_id not in {o.id for o in meals.orders}
        return False

    def _on_meals(self, message: Meals) -> None:
        """The server's list (on connect, and after any change by anyone)."""
        before = self.prompt(MEALS) if self.ctx.screen is MEALS and not self.message else None
        self.meals = message
        self.store.save_meals(message)
        kept = [p for p in self.pending if not self._settled(p, message)]
        mine = len(kept) != len(self.pending)
        self.pending = kept
        self.store.save_pending(kept)
        self.focus.clamp(len(self.rows()))
        if self.ctx.screen is MEAL_ORDER and self.target is not None and self.target.order:
            ids = {o.id for o in message.orders}
            if self.target.order.id not in ids:
                self.target = None
                self.ctx.show(MEALS, None, reset=True)
        if before is not None and not mine and not self.ctx.in_call:
            after = self.prompt(MEALS)
            if after != before:  # changed elsewhere (a menu published, the family's order)
                self.ctx.say(after, Priority.NORMAL, cut=True)
        self.ctx.changed()

    def _on_refused(self, message: MealRefused) -> None:
        """An order, change, cancellation or skip was refused: shown and said, never lost."""
        self.pending = [p for p in self.pending if p.key != message.key]
        self.store.save_pending(self.pending)
        words = text(self.ctx.lang, "meals.refused", message=message.message)
        if self.ctx.in_call or self.ctx.screen in DO_NOT_COVER:
            self.store.save_refusal(words)
            self.ctx.changed()
            return
        self.focus = Focus()
        self._tell(words)

    def _on_link(self, event: LinkStateChanged) -> None:
        self.ctx.changed()


def build(host: FeatureHost) -> tuple[Controller, ...]:
    """The meals feature's controller over the box's store (see `tvbox.features`)."""
    return (MealsController(host, MealStore(host.store), host.outbox),)


__all__ = ["MEALS", "MEAL_MENU", "MEAL_ORDER", "build"]

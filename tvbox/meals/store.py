"""The box's own record of the elder's meals, kept in its settings file so the TV shows them
with the network down: the list as last pushed, what was sent from this TV and not yet
settled by the server, and a refusal not yet shown."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from pydantic import ValidationError

from protocol import Meals
from tvbox.store import BoxStore

MEALS = "meals.list"
PENDING = "meals.pending"
REFUSAL = "meals.refusal"


@dataclass(frozen=True)
class Pending:
    """One order, change, cancellation or skip sent from this TV (``key``: its outbox key)."""

    key: str
    kind: str  # "order" | "change" | "cancel" | "skip"
    day: str  # ISO date
    meal: str
    dish: str = ""
    order_id: int = 0
    payable_cents: int = 0


class MealStore:
    """Meals, pending items and the last refusal in the box's settings."""

    def __init__(self, store: BoxStore) -> None:
        self.store = store

    def meals(self) -> Meals | None:
        """The meals list as last pushed (None: never heard of)."""
        raw = self.store.get(MEALS)
        if raw is None:
            return None
        try:
            return Meals.model_validate_json(raw)
        except ValidationError:
            return None  # written by another version: the next push replaces it

    def save_meals(self, meals: Meals) -> None:
        """Keep the pushed list."""
        self.store.put(MEALS, meals.model_dump_json())

    def pending(self) -> list[Pending]:
        """What this TV sent and the server has not settled, oldest first."""
        raw = self.store.get(PENDING)
        return [Pending(**item) for item in json.loads(raw)] if raw else []

    def save_pending(self, items: list[Pending]) -> None:
        """Replace the pending items."""
        self.store.put(PENDING, json.dumps([asdict(p) for p in items]))

    def refusal(self) -> str:
        """Words of a refusal not yet seen by the elder ("" if none)."""
        return self.store.get(REFUSAL) or ""

    def save_refusal(self, words: str) -> None:
        """Keep a refusal until the elder has seen it ("" forgets it)."""
        self.store.put(REFUSAL, words)

"""The box's own record of the elder's visits, kept in its settings file so the TV shows them
and reminds of them with the network down: the list as last pushed, the visits cancelled on
this TV and not yet confirmed by the server, and the reminders already given."""

from __future__ import annotations

import json

from pydantic import ValidationError

from protocol import Appointments
from tvbox.store import BoxStore

VISITS = "appointments.visits"
CANCELLING = "appointments.cancelling"
REMINDED = "appointments.reminded"


class VisitStore:
    """Visits, pending cancellations and given reminders in the box's settings."""

    def __init__(self, store: BoxStore) -> None:
        self.store = store

    def visits(self) -> Appointments | None:
        """The visit list as last pushed (None: never heard of)."""
        raw = self.store.get(VISITS)
        if raw is None:
            return None
        try:
            return Appointments.model_validate_json(raw)
        except ValidationError:
            return None  # written by another version: the next push replaces it

    def save_visits(self, visits: Appointments) -> None:
        """Keep the pushed list."""
        self.store.put(VISITS, visits.model_dump_json())

    def _ids(self, key: str) -> set[str]:
        raw = self.store.get(key)
        return set(json.loads(raw)) if raw else set()

    def _save_ids(self, key: str, ids: set[str]) -> None:
        self.store.put(key, json.dumps(sorted(ids)))

    def cancelling(self) -> set[int]:
        """Visits cancelled on this TV whose cancellation the server has not confirmed."""
        return {int(i) for i in self._ids(CANCELLING)}

    def add_cancelling(self, visit_id: int) -> None:
        """Remember a cancellation made here (shown as "cancelling" until the server's list)."""
        self._save_ids(CANCELLING, self._ids(CANCELLING) | {str(visit_id)})

    def settle_cancelling(self, still_listed: set[int]) -> None:
        """Forget cancellations the server's list shows done (the visit is gone from it)."""
        self._save_ids(CANCELLING, {str(i) for i in self.cancelling() & still_listed})

    def reminded(self) -> set[str]:
        """Keys of the visit reminders already given (``evening:<id>``, ``before:<id>``)."""
        return self._ids(REMINDED)

    def add_reminded(self, key: str, keep: set[str]) -> None:
        """Remember a reminder given; forget those of visits no longer listed (``keep``)."""
        ids = {k for k in self._ids(REMINDED) if k.split(":", 1)[-1] in keep}
        self._save_ids(REMINDED, ids | {key})

"""Durable outbox: box → server messages kept in SQLite until the server acks them.

Each item has an idempotency ``key``. The link sends every pending item, oldest first,
on each (re)connect and whenever a new item is added; an item is marked acked only when
an ``Ack`` with its key arrives. Resending an item the server already stored is harmless:
the server stores each key once and answers ``Ack(duplicate=True)``. So a message reaches
the server exactly once even if the box crashes or the link drops between send and ack.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from protocol import Message, dump_message, parse_message
from tvbox.store import BoxStore


def new_key() -> str:
    """A fresh idempotency key (URL-safe, 22 characters)."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class OutboxItem:
    """One stored message waiting for (or having received) its Ack."""

    seq: int
    key: str
    message: Message
    created_at: datetime
    acked_at: datetime | None


class Outbox:
    """The outbox table in the box's store."""

    def __init__(self, store: BoxStore) -> None:
        self.db = store.db

    def add(self, message: Message) -> OutboxItem:
        """Store `message` (which must carry a `key`) for delivery; return the stored item."""
        key = getattr(message, "key", None)
        if not isinstance(key, str):
            raise ValueError(f"{type(message).__name__} has no idempotency key")
        created = datetime.now(UTC)
        cursor = self.db.execute(
            "INSERT INTO outbox(key, message, created_at) VALUES(?, ?, ?)",
            (key, dump_message(message), created.isoformat()),
        )
        seq = cursor.lastrowid
        assert seq is not None
        return OutboxItem(seq, key, message, created, None)

    def pending(self) -> list[OutboxItem]:
        """Items not yet acked, oldest first (the order they must be sent in)."""
        rows = self.db.execute(
            "SELECT seq, key, message, created_at, acked_at FROM outbox "
            "WHERE acked_at IS NULL ORDER BY seq"
        ).fetchall()
        return [_item(row) for row in rows]

    def mark_acked(self, key: str) -> bool:
        """Record the server's Ack for `key`; False if no pending item has that key."""
        cursor = self.db.execute(
            "UPDATE outbox SET acked_at = ? WHERE key = ? AND acked_at IS NULL",
            (datetime.now(UTC).isoformat(), key),
        )
        return cursor.rowcount == 1

    def get(self, key: str) -> OutboxItem | None:
        """The item with `key`, acked or not."""
        row = self.db.execute(
            "SELECT seq, key, message, created_at, acked_at FROM outbox WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else _item(row)

    def discard_pending(self) -> int:
        """Drop every unacked item (the box was unpaired: they can no longer be delivered)."""
        return self.db.execute("DELETE FROM outbox WHERE acked_at IS NULL").rowcount

    def prune(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Delete acked items older than `older_than`; return how many went."""
        cutoff = (datetime.now(UTC) - older_than).isoformat()
        cursor = self.db.execute(
            "DELETE FROM outbox WHERE acked_at IS NOT NULL AND acked_at < ?", (cutoff,)
        )
        return cursor.rowcount


def _item(row: tuple[object, ...]) -> OutboxItem:
    seq, key, message, created_at, acked_at = row
    return OutboxItem(
        seq=int(str(seq)),
        key=str(key),
        message=parse_message(str(message)),
        created_at=datetime.fromisoformat(str(created_at)),
        acked_at=None if acked_at is None else datetime.fromisoformat(str(acked_at)),
    )

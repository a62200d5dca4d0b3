"""Which boxes are online and when each was last seen, kept in memory and told in batches.

One server carries thousands of boxes; per-box database work and per-box page pushes do not
scale to that (a restart reconnects every box within seconds). So:

- last seen lives here: a hello or heartbeat only sets a time in a dict; the times are
  written in one batch every `last_seen_flush_seconds` (and at once for boxes that went
  offline, and at shutdown). Pages overlay `last_seen()` on the stored value, so what they
  show is exact; the database lags by at most the flush period;
- online/offline changes are coalesced: each page gets at most one `changed` (topic
  ``device``) per `presence_push_seconds`, listing every device of its elders that changed
  meanwhile. The first change after a quiet period goes out at once.

SOS and every other push go straight through the hub, never through here.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, or_, update

from protocol import Changed, Topic
from server.models import Device, utcnow
from server.permissions import users_who_see_elders
from server.threads import Threads

if TYPE_CHECKING:
    from server.core.db import Database
    from server.ws.hub import Hub

log = logging.getLogger(__name__)
LAST_SEEN_FLUSH_SECONDS = 30.0


class Presence:
    """Last-seen times and pending online/offline changes of this process's boxes."""

    def __init__(
        self, db: Database, hub: Hub, push_seconds: float, threads: Threads | None = None
    ) -> None:
        self.db = db
        self.hub = hub
        self.threads = threads or Threads(1, db.url.startswith("sqlite"))
        self.push_seconds = push_seconds
        self._lock = threading.Lock()  # the loop writes, the flush thread swaps
        self._seen: dict[int, datetime] = {}
        self._unflushed: dict[int, datetime] = {}
        self._changed: dict[int, int] = {}  # device id -> elder id, since the last push
        self._timer: asyncio.TimerHandle | None = None
        self._last_push = 0.0

    # -- last seen -------------------------------------------------------------------

    def seen(self, device_id: int, at: datetime | None = None) -> None:
        """The box was heard (just now, or ``at``)."""
        when = at or utcnow()
        with self._lock:
            if device_id in self._seen and self._seen[device_id] >= when:
                return
            self._seen[device_id] = when
            self._unflushed[device_id] = when

    def last_seen(self, device_id: int) -> datetime | None:
        """The latest time this process heard the box, flushed or not."""
        return self._seen.get(device_id)

    def shown_last_seen(self, device_id: int, stored: datetime | None) -> datetime | None:
        """What a page shows: the stored time, or a later one not yet written."""
        recent = self._seen.get(device_id)
        if recent is None or (stored is not None and stored >= recent):
            return stored
        return recent

    def flush(self, device_ids: set[int] | None = None) -> int:
        """Write unflushed last-seen times (all, or these devices); how many were written.

        Blocking: call from a worker thread. A time only ever moves forward, so several
        server processes may flush the same box in any order.
        """
        with self._lock:
            if device_ids is None:
                batch, self._unflushed = self._unflushed, {}
            else:
                batch = {d: self._unflushed.pop(d) for d in device_ids if d in self._unflushed}
        if not batch:
            return 0
        table = cast(Table, Device.__table__)
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("device_id"),
                or_(table.c.last_seen_at.is_(None), table.c.last_seen_at < bindparam("seen")),
            )
            .values(last_seen_at=bindparam("seen"))
        )
        rows = [{"device_id": d, "seen": t} for d, t in batch.items()]
        try:
            with self.db.session() as db:
                db.connection().execute(statement, rows)
        except Exception:
            with self._lock:  # keep them for the next flush; newer times win
                for device_id, seen in batch.items():
                    self._unflushed.setdefault(device_id, seen)
            raise
        return len(batch)

    # -- online / offline ---------------------------------------------------------------

    def changed(self, device_id: int, elder_id: int) -> None:
        """The box came online or went offline here (call on the hub's loop)."""
        self._changed[device_id] = elder_id
        if self._timer is not None:
            return
        loop = asyncio.get_running_loop()
        wait = max(0.0, self._last_push + self.push_seconds - time.monotonic())
        self._timer = loop.call_later(wait, self._start_push)

    def _start_push(self) -> None:
        self._last_push = time.monotonic()
        changed, self._changed = self._changed, {}
        self.hub.track(asyncio.ensure_future(self._push(changed)))

    async def _push(self, changed: dict[int, int]) -> None:
        try:
            offline = {d for d in changed if not self.hub.device_connected(d)}
            audience = await self.threads.in_request_thread(
                self._prepare, offline, set(changed.values())
            )
            per_user: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for device_id, elder_id in sorted(changed.items()):
                # The state now, not at the change: a quick reconnect shows as online.
                entry = {
                    "device_id": device_id,
                    "elder_id": elder_id,
                    "online": self.hub.device_connected(device_id),
                }
                for user_id in audience.get(elder_id, ()):
                    if self.hub.user_connected(user_id):
                        per_user[user_id].append(entry)
            for user_id, devices in per_user.items():
                elders = {d["elder_id"] for d in devices}
                message = Changed(
                    topic=Topic.DEVICE,
                    elder_id=next(iter(elders)) if len(elders) == 1 else None,
                    data={"devices": devices},
                )
                await self.hub.to_users((user_id,), message)
        except Exception:
            log.exception("presence push failed")
        finally:
            self._timer = None
            if self._changed:  # changes that came in meanwhile wait out the interval
                self._timer = asyncio.get_running_loop().call_later(
                    max(0.0, self._last_push + self.push_seconds - time.monotonic()),
                    self._start_push,
                )

    def _prepare(self, offline: set[int], elder_ids: set[int]) -> dict[int, set[int]]:
        # Offline boxes' last seen is written before the pages re-read it.
        try:
            self.flush(offline)
        except Exception:
            log.exception("could not write last-seen times of boxes that went offline")
        with self.db.session() as db:
            return users_who_see_elders(db, elder_ids)

"""SOS from a box: over `/ws/box` (the outbox) and `POST /api/box/sensor-events`.

Order matters and is the point of this module: store and commit, acknowledge to the box,
then claim and send the fan-out. A crash anywhere after the commit loses nothing: the
periodic sweep finds the unclaimed (or stale) fan-out and delivers it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from protocol import Ack, SosRaise
from server import pairing
from server.models import Device, utcnow
from server.runtime import Runtime
from server.sos.alerts import store_alert
from server.sos.delivery import Outgoing, claim_fanout, send_mail_and_texts, tell_box
from server.ws.connection import Connection
from server.ws.dispatch import box_handler

T = TypeVar("T")

log = logging.getLogger(__name__)
# SOS database work gets its own threads: it must not queue behind hellos and heartbeats
# of thousands of boxes in the shared request thread pool.
SOS_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sos")
# SQLite has one writer at a time: parallel SOS writers only wait in its busy handler, which
# sleeps up to 100 ms between tries (measured: most SOS thread time went there at 2,000
# boxes). One thread takes them in turn, with no such sleeps. PostgreSQL keeps four.
SOS_SQLITE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sos-sqlite")


async def in_sos_thread(rt: Runtime, fn: Callable[..., T], *args: Any) -> T:
    """Run blocking SOS work on the SOS threads."""
    pool = SOS_SQLITE_THREAD if rt.db.url.startswith("sqlite") else SOS_THREADS
    return await asyncio.get_running_loop().run_in_executor(pool, partial(fn, *args))


def store_sos(rt: Runtime, device_id: int, raised: SosRaise) -> tuple[int, bool]:
    """Store the SOS of a box and commit; (alert id, created)."""
    with rt.db.session() as db:
        device = db.get(Device, device_id)
        assert device is not None
        elder = pairing.elder_of(db, device)
        alert, created = store_alert(db, elder, device, raised, rt.settings.sos_escalation_seconds)
        alert_id = alert.id
    if created and rt.settings.fault_crash_after_sos_store:
        # TEST ONLY (ANXIN_FAULT_CRASH_AFTER_SOS_STORE): die between commit and fan-out.
        log.error("fault injection: exiting right after storing SOS %s", alert_id)
        os._exit(17)
    return alert_id, created


async def fan_out_now(rt: Runtime, alert_id: int) -> None:
    """Claim and send the first fan-out at once: pushes on this loop, mail in a thread."""

    def claim() -> Outgoing | None:
        with rt.db.session() as db:
            return claim_fanout(db, alert_id, utcnow())

    out = await in_sos_thread(rt, claim)
    if out is None:
        return  # the sweep (or another process) has it
    for message in out.pushes:
        await rt.hub.to_users(out.users, message)
    _in_thread(rt, send_mail_and_texts, rt, out)  # e-mail is slow: never delay the board


def _in_thread(rt: Runtime, fn: Callable[..., Any], *args: Any) -> None:
    rt.hub.track(asyncio.ensure_future(run_in_threadpool(fn, *args)))


@box_handler(SosRaise)
async def box_sos(conn: Connection, rt: Runtime, message: SosRaise) -> None:
    """Store the SOS, ack it to the box, then fan it out (once, whatever the resends)."""
    assert conn.device_id is not None
    alert_id, created = await in_sos_thread(rt, store_sos, rt, conn.device_id, message)
    await conn.send(Ack(key=message.key, duplicate=not created, id=message.id))
    if created:
        await fan_out_now(rt, alert_id)
    else:
        # A resend after a lost ack: the box may also have missed who answered.
        _in_thread(rt, tell_box, rt, alert_id)

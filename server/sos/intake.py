"""SOS intake: the one path of an SOS from a box, over `/ws/box` and `POST /api/box/sensor-events`.

Order matters and is the point of this module: store and commit (once per (box, key), with
the escalation clock started), answer the box, then claim and send the fan-out. A crash
anywhere after the commit loses nothing: the periodic sweep finds the unclaimed (or stale)
fan-out and delivers it. The socket handler and the sensor route both call `take_sos`, so
the two paths cannot drift.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from protocol import SosRaise
from server.accounts import elder_of
from server.models import Device, utcnow
from server.runtime import Runtime
from server.sos.alerts import store_alert
from server.sos.delivery import Outgoing, claim_fanout, send_mail_and_texts, tell_box

log = logging.getLogger(__name__)
# answer(alert_id, created): tell the box its SOS is stored (a socket ack; nothing for HTTP,
# whose response is the answer).
Answer = Callable[[int, bool], Awaitable[None]]


async def take_sos(
    rt: Runtime, device_id: int, raised: SosRaise, answer: Answer | None = None
) -> tuple[int, bool]:
    """Store the SOS, answer the box, then fan it out (once, whatever the resends)."""
    alert_id, created = await rt.threads.in_sos_thread(store_sos, rt, device_id, raised)
    if answer is not None:
        await answer(alert_id, created)
    if created:
        await fan_out_now(rt, alert_id)
    else:
        # A resend after a lost answer: the box may also have missed who answered.
        _in_thread(rt, tell_box, rt, alert_id)
    return alert_id, created


def store_sos(rt: Runtime, device_id: int, raised: SosRaise) -> tuple[int, bool]:
    """Store the SOS of a box and commit; (alert id, created)."""
    with rt.db.session() as db:
        device = db.get(Device, device_id)
        assert device is not None
        elder = elder_of(db, device)
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
            return claim_fanout(db, alert_id, utcnow(), rt.settings.public_base_url)

    out = await rt.threads.in_sos_thread(claim)
    if out is None:
        return  # the sweep (or another process) has it
    for message in out.pushes:
        await rt.hub.to_users(out.users, message)
    _in_thread(rt, send_mail_and_texts, rt, out)  # e-mail is slow: never delay the board


def _in_thread(rt: Runtime, fn: Callable[..., Any], *args: Any) -> None:
    rt.hub.track(asyncio.ensure_future(rt.threads.in_request_thread(fn, *args)))

"""Call signaling over the existing sockets: `/ws/box` for boxes, `/ws/web` for pages.

Every message naming a call is checked against the call's parties in the database
(`server.calls.store`) before anything is relayed; strangers get a `not_found` error and
nobody else hears of it. SDP is relayed verbatim to the other party's sockets.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from protocol import (
    CallAccept,
    CallDecline,
    CallEndReason,
    CallHangUp,
    CallInvite,
    CallJoin,
    ConsultNotes,
    ConsultRequest,
    Message,
    QueueSubscribe,
)
from server.calls import store
from server.calls.config import call_settings
from server.calls.store import Party, QueuePush, Sends
from server.errors import Forbidden
from server.models import CallStatus
from server.runtime import Runtime
from server.ws.connection import Connection

log = logging.getLogger(__name__)


def party_of(conn: Connection) -> Party:
    """The call party speaking on ``conn``."""
    if conn.device_id is not None:
        return Party(device_id=conn.device_id)
    return Party(user_id=conn.user_id)


async def push_queue(rt: Runtime, push: QueuePush) -> None:
    """Send a clinic's queue to its doctors and each waiting box its place."""
    await rt.hub.to_users(push.doctor_ids, push.queue)
    for device_id, queued in push.boxes:
        await rt.hub.to_device(device_id, queued)


async def deliver(rt: Runtime, sends: Sends) -> None:
    """Send everything a store operation planned."""
    for device_id, message in sends.to_devices:
        await rt.hub.to_device(device_id, message)  # type: ignore[arg-type]
    for user_id, message in sends.to_users:
        await rt.hub.to_users([user_id], message)  # type: ignore[arg-type]
    for push in sends.queues:
        await push_queue(rt, push)


# -- box -> server ------------------------------------------------------------


async def consult_request(conn: Connection, rt: Runtime, message: ConsultRequest) -> None:
    """The elder asks for a doctor: join the clinic queue."""
    assert conn.device_id is not None
    await deliver(rt, await run_in_threadpool(store.request_consult, rt.db, conn.device_id))


async def box_accept(conn: Connection, rt: Runtime, message: CallAccept) -> None:
    """The box accepts a call (a doctor's or a family member's)."""
    assert conn.device_id is not None
    await deliver(rt, await run_in_threadpool(store.accept, rt.db, conn.device_id, message.call_id))


async def box_decline(conn: Connection, rt: Runtime, message: CallDecline) -> None:
    """The box declines a call."""
    sends = await run_in_threadpool(
        store.end, rt.db, party_of(conn), message.call_id, CallEndReason.DECLINED
    )
    await deliver(rt, sends)


# -- page -> server -----------------------------------------------------------


async def queue_subscribe(conn: Connection, rt: Runtime, message: QueueSubscribe) -> None:
    """A doctor's page asks for the live consult queue."""
    assert conn.user_id is not None
    push = await run_in_threadpool(store.doctor_queue, rt.db, conn.user_id)
    if push is None:
        raise Forbidden("only doctors of a clinic have a consult queue")
    await conn.send(push.queue.model_copy(update={"id": message.id}))


async def join(conn: Connection, rt: Runtime, message: CallJoin) -> None:
    """A doctor takes a consult from the queue."""
    assert conn.user_id is not None
    await deliver(
        rt, await run_in_threadpool(store.join_consult, rt.db, conn.user_id, message.call_id)
    )


async def invite(conn: Connection, rt: Runtime, message: CallInvite) -> None:
    """A page rings an elder's box (family call, or SOS call with auto-answer)."""
    assert conn.user_id is not None
    sends = await run_in_threadpool(
        store.invite,
        rt.db,
        rt.hub.device_connected,
        conn.user_id,
        message.elder_id,
        message.auto_answer,
    )
    await deliver(rt, sends)
    if sends.call_id is not None:
        rt.hub.track(asyncio.ensure_future(_ring_timeout(rt, sends.call_id)))


async def ring(rt: Runtime, sends: Sends) -> None:
    """Ring what a store operation planned, and end it unanswered after the ring timeout
    (the caller's page hears ``call_ended``; ``GET /api/calls/{id}`` says so)."""
    await deliver(rt, sends)
    if sends.call_id is not None:
        rt.hub.track(asyncio.ensure_future(_ring_timeout(rt, sends.call_id)))


async def _ring_timeout(rt: Runtime, call_id: int) -> None:
    await asyncio.sleep(call_settings().ring_timeout_seconds)
    sends = await run_in_threadpool(
        store.end_if_live, rt.db, call_id, (CallStatus.RINGING,), CallEndReason.UNANSWERED
    )
    if sends is not None:
        await deliver(rt, sends)


async def notes(conn: Connection, rt: Runtime, message: ConsultNotes) -> None:
    """The doctor saves the consult's notes and outcome."""
    assert conn.user_id is not None
    await run_in_threadpool(
        store.save_notes, rt.db, conn.user_id, message.call_id, message.notes, message.outcome
    )


# -- either side --------------------------------------------------------------


async def hang_up(conn: Connection, rt: Runtime, message: CallHangUp) -> None:
    """Either side ends the call."""
    sends = await run_in_threadpool(
        store.end, rt.db, party_of(conn), message.call_id, message.reason
    )
    await deliver(rt, sends)


async def relay(conn: Connection, rt: Runtime, message: Message) -> None:
    """Pass an SDP offer, answer or ICE candidate to the other side of the call."""
    call_id = message.call_id  # type: ignore[attr-defined]
    target = await run_in_threadpool(store.relay_target, rt.db, party_of(conn), call_id)
    if target.device_id is not None:
        await rt.hub.to_device(target.device_id, message)
    elif target.user_id is not None:
        await rt.hub.to_users([target.user_id], message)

"""`/ws/box`: the TV boxes' socket: hello by device token or pairing secret, heartbeats, outbox."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from sqlalchemy import select, update
from starlette.websockets import WebSocket

from protocol import (
    ClientKind,
    ElderInfo,
    ErrorCode,
    Heartbeat,
    Hello,
    Message,
    Paired,
    Welcome,
)
from server.accounts import device_for_token, elder_of
from server.core.security import token_hash
from server.models import Device, Elder, utcnow
from server.pairing import codes as pairing
from server.push import ELDER_INFO_COLUMNS, elder_info
from server.runtime import Runtime
from server.ws.connection import Connection
from server.ws.receive import dispatch_frames

log = logging.getLogger(__name__)


async def box_socket(ws: WebSocket, rt: Runtime) -> None:
    """Serve one box until it goes away."""
    await ws.accept()
    conn = Connection(ws=ws, kind=ClientKind.BOX)
    watchdog = asyncio.create_task(conn.watch(rt.settings.ws_dead_after_seconds))
    try:
        await dispatch_frames(conn, lambda message: _handle(conn, rt, message))
    finally:
        rt.hub.unregister(conn)
        if conn.device_id is not None and conn.elder_id is not None:
            silent = time.monotonic() - conn.last_heard
            rt.presence.seen(conn.device_id, utcnow() - timedelta(seconds=silent))
            if not rt.hub.device_connected(conn.device_id):
                # No database work here: a restart drops thousands of boxes at once. The
                # presence push writes their last seen and tells the pages, in one batch.
                rt.presence.changed(conn.device_id, conn.elder_id)
                for hook in rt.wiring.box_disconnected:
                    rt.hub.track(asyncio.ensure_future(hook(conn.device_id, rt)))
        watchdog.cancel()
        await conn.close(1000)


async def _handle(conn: Connection, rt: Runtime, message: Message) -> None:
    if isinstance(message, Hello):
        await _hello(conn, rt, message)
    elif not conn.authenticated:
        await conn.send_error(
            ErrorCode.UNAUTHORIZED, "say hello with a device token first", message.id
        )
    elif isinstance(message, Heartbeat):
        await conn.send(Heartbeat(id=message.id))
        if conn.device_id is not None:
            rt.presence.seen(conn.device_id)  # in memory; written in batches
    elif (handler := rt.wiring.box_handlers.get(type(message))) is None:
        await conn.send_error(
            ErrorCode.INVALID, f"a box may not send {message.type!r} messages", message.id
        )
    elif conn.device_id is None:
        await conn.send_error(
            ErrorCode.UNAUTHORIZED, "only a paired box can send this; pair it first", message.id
        )
    else:
        await handler(conn, rt, message)


async def _hello(conn: Connection, rt: Runtime, hello: Hello) -> None:
    if hello.client is not ClientKind.BOX:
        await conn.send_error(ErrorCode.INVALID, "this socket is for TV boxes", hello.id)
        return
    if conn.authenticated:
        await conn.send_error(ErrorCode.CONFLICT, "already said hello on this socket", hello.id)
        return
    beat = rt.settings.ws_heartbeat_seconds
    if hello.device_token:
        found = await rt.threads.in_box_thread(_device_hello, rt, hello)
        if found is None:
            await conn.send_error(
                ErrorCode.UNAUTHORIZED,
                "this TV box is not paired (token unknown or revoked)",
                hello.id,
            )
            return
        device_id, info, state = found
        conn.device_id, conn.elder_id = device_id, info.id
        was_online = rt.hub.device_connected(device_id)
        rt.hub.register(conn)
        rt.presence.seen(device_id)
        await conn.send(
            Welcome(
                client=ClientKind.BOX,
                device_id=device_id,
                elder=info,
                heartbeat_seconds=beat,
                id=hello.id,
            )
        )
        if not was_online:
            rt.presence.changed(device_id, info.id)
        for message in state:  # each feature's state on connect (the box never asks)
            await conn.send(message)
        return
    if hello.pairing_secret:
        found_pairing = await rt.threads.in_request_thread(_pairing_hello, rt, hello.pairing_secret)
        if found_pairing is None:
            await conn.send_error(
                ErrorCode.UNAUTHORIZED,
                "pairing code unknown or expired; ask for a new code",
                hello.id,
            )
            return
        request_id, paired = found_pairing
        conn.pairing_request_id = request_id
        conn.pairing_secret = hello.pairing_secret
        rt.hub.register(conn)
        await conn.send(Welcome(client=ClientKind.BOX, heartbeat_seconds=beat, id=hello.id))
        if paired is not None:
            await conn.send(paired)
        return
    await conn.send_error(
        ErrorCode.INVALID, "hello from a box needs a device_token or a pairing_secret", hello.id
    )


def _device_hello(rt: Runtime, hello: Hello) -> tuple[int, ElderInfo, list[Message]] | None:
    # Runs for every box after a restart, thousands at once: one indexed lookup by token
    # hash, plain columns (no ORM objects, no eager loads), a write only when something
    # really changed (a new app version, the first hello after pairing), and the features'
    # state on connect read in the same session.
    with rt.db.session() as db:
        row = db.execute(
            select(Device.id.label("device_id"), Device.app_version, *ELDER_INFO_COLUMNS)
            .join(Elder, Elder.id == Device.elder_id)
            .where(Device.token_hash == token_hash(hello.device_token or ""))
            .where(Device.revoked_at.is_(None))
        ).one_or_none()
        if row is None:
            return None
        version = (hello.app_version or "")[:64]
        if version and version != row.app_version:
            db.execute(update(Device).where(Device.id == row.device_id).values(app_version=version))
        pairing.mark_collected(db, row.device_id)
        info = elder_info(row)
        state = [m for hook in rt.wiring.box_connected if (m := hook(db, info.id)) is not None]
        return row.device_id, info, state


def _pairing_hello(rt: Runtime, secret: str) -> tuple[int, Paired | None] | None:
    with rt.db.session() as db:
        request = pairing.request_for_secret(db, secret)
        if request is None:
            return None
        state = pairing.state_of(request)
        if state is pairing.PairingState.EXPIRED:
            return None
        if state is pairing.PairingState.PAIRED:
            device = device_for_token(db, secret)
            if device is None:  # paired, then revoked: this secret is spent
                return None
            elder = elder_of(db, device)
            return request.id, Paired(
                device_id=device.id, device_token=secret, elder=elder_info(elder)
            )
        return request.id, None

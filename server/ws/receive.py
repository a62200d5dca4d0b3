"""Reading frames off a socket until the peer goes away, and handing each message on."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.websockets import WebSocketDisconnect

from protocol import ErrorCode, Message, ProtocolError, check_frame, message_ref, parse_message
from server.errors import AppError
from server.ws.connection import Connection

log = logging.getLogger(__name__)


async def receive_frames(conn: Connection) -> AsyncIterator[str | bytes]:
    """Yield every text or binary frame; stop at disconnect or close."""
    while not conn.closed.is_set():
        try:
            event = await conn.ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            conn.closed.set()
            return
        if event["type"] == "websocket.disconnect":
            conn.closed.set()  # the peer is gone: nothing left to close
            return
        text = event.get("text")
        if text is not None:
            yield text
            continue
        data = event.get("bytes")
        if data is not None:
            yield data


async def dispatch_frames(conn: Connection, handle: Callable[[Message], Awaitable[None]]) -> None:
    """Decode every frame and pass it to ``handle``; every failure becomes an `error` reply
    on the same socket, which stays open."""
    async for raw in receive_frames(conn):
        conn.heard()
        try:
            # Size and depth first, undecoded: a huge or deeply nested frame costs the loop
            # no JSON decoding and gets no attempt at naming its ``id``.
            check_frame(raw)
        except ProtocolError as err:
            log.info("%s socket: refused a frame: %s", conn.kind, err.message)
            await conn.send_error(err.code, err.message)
            continue
        try:
            message = parse_message(raw)
        except ProtocolError as err:
            await conn.send_error(err.code, err.message, message_ref(raw))
            continue
        try:
            await handle(message)
        except AppError as err:
            await conn.send_error(err.code, err.message, message.id)
        except Exception:
            log.exception("%s message %s failed", conn.kind, message.type)
            await conn.send_error(
                ErrorCode.INTERNAL, "the server could not handle that", message.id
            )

"""`/ws/web`: logged-in pages' socket — live pushes of data the user may see."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from protocol import (
    ClientKind,
    ErrorCode,
    Heartbeat,
    Hello,
    Message,
    Welcome,
)
from server.accounts import user_for_token
from server.models import SessionKind
from server.runtime import Runtime
from server.ws.connection import Connection
from server.ws.receive import dispatch_frames

SESSION_COOKIE = "anxin_session"
log = logging.getLogger(__name__)


def _same_origin(ws: WebSocket) -> bool:
    # A cookie is only honoured from our own pages (cross-site WebSocket hijacking).
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == ws.headers.get("host")


async def web_socket(ws: WebSocket, rt: Runtime) -> None:
    """Serve one page until it goes away."""
    await ws.accept()
    conn = Connection(ws=ws, kind=ClientKind.WEB)
    cookie = ws.cookies.get(SESSION_COOKIE) if _same_origin(ws) else None
    watchdog = asyncio.create_task(conn.watch(rt.settings.ws_dead_after_seconds))
    try:
        await dispatch_frames(conn, lambda message: _handle(conn, rt, message, cookie))
    finally:
        rt.hub.unregister(conn)
        watchdog.cancel()
        await conn.close(1000)


async def _handle(conn: Connection, rt: Runtime, message: Message, cookie: str | None) -> None:
    if isinstance(message, Hello):
        await _hello(conn, rt, message, cookie)
    elif not conn.authenticated:
        await conn.send_error(ErrorCode.UNAUTHORIZED, "say hello first (log in)", message.id)
    elif isinstance(message, Heartbeat):
        await conn.send(Heartbeat(id=message.id))
    elif (handler := rt.wiring.web_handlers.get(type(message))) is None:
        await conn.send_error(
            ErrorCode.INVALID, f"a page may not send {message.type!r} messages", message.id
        )
    else:
        await handler(conn, rt, message)


async def _hello(conn: Connection, rt: Runtime, hello: Hello, cookie: str | None) -> None:
    if hello.client is not ClientKind.WEB:
        await conn.send_error(ErrorCode.INVALID, "this socket is for web pages", hello.id)
        return
    if conn.authenticated:
        await conn.send_error(ErrorCode.CONFLICT, "already said hello on this socket", hello.id)
        return

    def lookup() -> tuple[int, object] | None:
        with rt.db.session() as db:
            user = None
            if hello.token:
                user = user_for_token(db, hello.token, SessionKind.BEARER)
            elif cookie:
                user = user_for_token(db, cookie, SessionKind.COOKIE)
            return (user.id, user.role) if user else None

    found = await rt.threads.in_request_thread(lookup)
    if found is None:
        await conn.send_error(
            ErrorCode.UNAUTHORIZED, "not logged in (session missing or expired)", hello.id
        )
        return
    conn.user_id = found[0]
    rt.hub.register(conn)
    await conn.send(
        Welcome(
            client=ClientKind.WEB,
            user_id=found[0],
            role=found[1],  # type: ignore[arg-type]
            heartbeat_seconds=rt.settings.ws_heartbeat_seconds,
            id=hello.id,
        )
    )

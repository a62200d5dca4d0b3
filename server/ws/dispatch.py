"""Which function handles which message type on each socket.

Feature modules register their handlers with `box_handler` / `web_handler` at import time;
`server.app` imports every feature module, so the sockets know all handlers at start-up.
Hello and heartbeat are handled by the sockets themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from protocol import Message

if TYPE_CHECKING:
    from server.runtime import Runtime
    from server.ws.connection import Connection

Handler = Callable[["Connection", "Runtime", Any], Awaitable[None]]
H = TypeVar("H", bound=Handler)

ConnectedHook = Callable[["Connection", "Runtime"], Awaitable[None]]

BOX_HANDLERS: dict[type[Message], Handler] = {}
# Run after a paired box's hello is accepted (a feature sends the box its current state).
BOX_CONNECTED: list[ConnectedHook] = []
WEB_HANDLERS: dict[type[Message], Handler] = {}
# Run (as tracked tasks) once a paired box's last socket has closed: ``fn(device_id, rt)``.
DisconnectedHook = Callable[[int, "Runtime"], Awaitable[None]]
BOX_DISCONNECTED: list[DisconnectedHook] = []


def _register(
    table: dict[type[Message], Handler], types: tuple[type[Message], ...]
) -> Callable[[H], H]:
    def decorate(fn: H) -> H:
        for kind in types:
            if kind in table:
                raise ValueError(f"{kind.__name__} already has a handler")
            table[kind] = fn
        return fn

    return decorate


def box_handler(*types: type[Message]) -> Callable[[H], H]:
    """Register ``fn(conn, rt, message)`` for messages a paired box sends."""
    return _register(BOX_HANDLERS, types)


def web_handler(*types: type[Message]) -> Callable[[H], H]:
    """Register ``fn(conn, rt, message)`` for messages a logged-in page sends."""
    return _register(WEB_HANDLERS, types)


def on_box_connected(fn: ConnectedHook) -> ConnectedHook:
    """Register ``fn(conn, rt)`` to run each time a paired box connects."""
    BOX_CONNECTED.append(fn)
    return fn


def on_box_disconnected(fn: DisconnectedHook) -> DisconnectedHook:
    """Register ``fn(device_id, rt)`` to run when a paired box goes offline."""
    BOX_DISCONNECTED.append(fn)
    return fn

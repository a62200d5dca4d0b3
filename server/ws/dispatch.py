"""The shapes of socket handlers and connect hooks.

Features declare which function handles which message type in their `server.features.Feature`;
the sockets look them up in the runtime's wiring (``rt.wiring.box_handlers`` /
``rt.wiring.web_handlers``). Hello and heartbeat are handled by the sockets themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.ws.connection import Connection

# ``rt`` below is the `server.runtime.Runtime`, typed Any: the runtime holds the tables built
# from these shapes, so naming it here would make the two modules import each other.
# fn(conn, rt, message)
Handler = Callable[["Connection", Any, Any], Awaitable[None]]
# Run after a paired box's hello is accepted (a feature sends the box its current state).
ConnectedHook = Callable[["Connection", Any], Awaitable[None]]
# Run (as tracked tasks) once a paired box's last socket has closed: ``fn(device_id, rt)``.
DisconnectedHook = Callable[[int, Any], Awaitable[None]]

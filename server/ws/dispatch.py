"""The shapes of socket handlers and connect hooks.

Features declare which function handles which message type in their `server.features.Feature`;
the sockets look them up in the runtime's wiring (``rt.wiring.box_handlers`` /
``rt.wiring.web_handlers``). Hello and heartbeat are handled by the sockets themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from protocol import Message
    from server.ws.connection import Connection

# ``rt`` below is the `server.runtime.Runtime`, typed Any: the runtime holds the tables built
# from these shapes, so naming it here would make the two modules import each other.
# fn(conn, rt, message)
Handler = Callable[["Connection", Any, Any], Awaitable[None]]
# state(db, elder_id): a feature's current state for a box of that elder, sent right after
# the Welcome (or None: nothing to send). Read in the hello's own database session, on the
# box threads: after a restart thousands of boxes say hello at once, and one session per
# hello (not one per feature) keeps SQLite's single writer from waiting on the readers.
ConnectedHook = Callable[["Session", int], "Message | None"]
# Run (as tracked tasks) once a paired box's last socket has closed: ``fn(device_id, rt)``.
DisconnectedHook = Callable[[int, Any], Awaitable[None]]

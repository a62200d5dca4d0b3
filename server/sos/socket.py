"""The SOS feature on the box socket: ``sos_raise`` goes through `server.sos.intake`."""

from __future__ import annotations

from protocol import Ack, SosRaise
from server.runtime import Runtime
from server.sos.intake import take_sos
from server.ws.connection import Connection


async def box_sos(conn: Connection, rt: Runtime, message: SosRaise) -> None:
    """Store the SOS, ack it to the box, then fan it out (once, whatever the resends)."""
    assert conn.device_id is not None

    async def ack(alert_id: int, created: bool) -> None:
        await conn.send(Ack(key=message.key, duplicate=not created, id=message.id))

    await take_sos(rt, conn.device_id, message, ack)

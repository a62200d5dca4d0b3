"""The elders feature's box handler: the elder changed the TV's language on the box."""

from __future__ import annotations

from protocol import Ack, BoxSettings, ElderInfo
from server import audit
from server.accounts import elder_of
from server.models import Device
from server.push import elder_audience, elder_info, push_elder_update
from server.runtime import Runtime
from server.ws.connection import Connection


async def box_settings(conn: Connection, rt: Runtime, message: BoxSettings) -> None:
    """Store the language the elder chose on the box; tell the pages; ack."""
    assert conn.device_id is not None
    outcome = await rt.threads.in_request_thread(_apply_box_settings, rt, conn.device_id, message)
    duplicate, info, users = outcome
    if not duplicate:
        # Pages only: the box that sent the change knows it already.
        await push_elder_update(rt.hub, info, users)
    await conn.send(Ack(key=message.key, duplicate=duplicate, id=message.id))


def _apply_box_settings(
    rt: Runtime, device_id: int, message: BoxSettings
) -> tuple[bool, ElderInfo, set[int]]:
    with rt.db.session() as db:
        device = db.get(Device, device_id)
        assert device is not None
        elder = elder_of(db, device)
        if not audit.first_receipt(db, device_id, message.key, message.type):
            return True, elder_info(elder), set()
        elder.lang = message.lang
        audit.record(db, "elder.lang.changed_on_box", elder.id, device=device, detail=message.lang)
        users, _ = elder_audience(db, elder)
        return False, elder_info(elder), users

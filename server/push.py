"""What is pushed to boxes and pages when data they may see changes.

`elder_info` is the one builder of the elder as a box knows it (`protocol.ElderInfo`): the
welcome, ``paired``, ``elder_updated``, the pairing status and ``/api/box/me`` all carry it,
and the pages' ``changed`` about an elder carries the same fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from protocol import Changed, ElderInfo, ElderUpdated, Topic
from server.models import Device, Elder
from server.permissions import users_who_see_elder
from server.ws.hub import Hub

ELDER_INFO_COLUMNS = (
    Elder.id,
    Elder.name,
    Elder.lang,
    Elder.timezone,
    Elder.speech_rate_wpm,
    Elder.speech_volume_pct,
)
"""The columns `elder_info` reads: select these to build it from a row without an ORM object."""


def elder_info(elder: Elder | Row[Any]) -> ElderInfo:
    """The elder as a box knows them, from an `Elder` or a row of `ELDER_INFO_COLUMNS`."""
    return ElderInfo.model_validate(elder, from_attributes=True)


def elder_page_data(info: ElderInfo) -> dict[str, Any]:
    """What a page's ``changed`` about an elder carries: the box's fields, less the id
    (the message names the elder already)."""
    return info.model_dump(mode="json", exclude={"id"})


def elder_audience(db: Session, elder: Elder) -> tuple[set[int], set[int]]:
    """User ids and live device ids that should hear about changes to ``elder``."""
    users = users_who_see_elder(db, elder)
    devices = set(
        db.scalars(
            select(Device.id).where(Device.elder_id == elder.id, Device.revoked_at.is_(None))
        ).all()
    )
    return users, devices


async def push_change(
    hub: Hub, topic: Topic, elder_id: int, data: dict[str, Any], users: set[int]
) -> None:
    """Send one `changed` message to these users' pages."""
    await hub.to_users(users, Changed(topic=topic, elder_id=elder_id, data=data))


async def push_elder_update(
    hub: Hub, info: ElderInfo, users: set[int], devices: Iterable[int] = ()
) -> None:
    """Tell pages (``changed``) and boxes (``elder_updated``) that an elder's record changed."""
    await push_change(hub, Topic.ELDER, info.id, elder_page_data(info), users)
    update = ElderUpdated(elder=info)
    for device_id in devices:
        await hub.to_device(device_id, update)


def notify_elder(db: Session, hub: Hub, elder: Elder, topic: Topic, data: dict[str, Any]) -> None:
    """Push a change about ``elder`` to the pages of everyone who may see it (from any
    thread, never waits). Boxes hear of their elder's own record only: `notify_elder_updated`."""
    users = users_who_see_elder(db, elder)
    hub.push(push_change(hub, topic, elder.id, data, users))


def notify_elder_updated(db: Session, hub: Hub, elder: Elder) -> None:
    """Push ``elder``'s changed record to its pages and its boxes (from any thread)."""
    users, devices = elder_audience(db, elder)
    hub.push(push_elder_update(hub, elder_info(elder), users, devices))

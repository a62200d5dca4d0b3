"""What is pushed to boxes and pages when data they may see changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Changed, ElderInfo, Topic
from server.models import Device, Elder
from server.permissions import users_who_see_elder
from server.ws.hub import Hub


def elder_info(elder: Elder) -> ElderInfo:
    """The elder as a box knows them."""
    return ElderInfo(
        id=elder.id,
        name=elder.name,
        lang=elder.lang,
        timezone=elder.timezone,
        speech_rate_wpm=elder.speech_rate_wpm,
        speech_volume_pct=elder.speech_volume_pct,
    )


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
    hub: Hub,
    topic: Topic,
    elder_id: int,
    data: dict[str, Any],
    users: set[int],
    devices: set[int] = frozenset(),  # type: ignore[assignment]
) -> None:
    """Send one `changed` message to these pages and boxes."""
    message = Changed(topic=topic, elder_id=elder_id, data=data)
    await hub.to_users(users, message)
    for device_id in devices:
        await hub.to_device(device_id, message)


def notify_elder(db: Session, hub: Hub, elder: Elder, topic: Topic, data: dict[str, Any]) -> None:
    """Push a change of ``elder`` to everyone who may see it (from any thread, never waits).

    Boxes only hear about their elder's own record, never about devices or pairing.
    """
    users, devices = elder_audience(db, elder)
    if topic is not Topic.ELDER:
        devices = set()
    hub.push(push_change(hub, topic, elder.id, data, users, devices))


def elder_data(elder: Elder) -> dict[str, Any]:
    """The part of an elder record a box shows."""
    return {
        "name": elder.name,
        "lang": elder.lang.value,
        "timezone": elder.timezone,
        "speech_rate_wpm": elder.speech_rate_wpm,
        "speech_volume_pct": elder.speech_volume_pct,
    }

"""Telling people of meal changes: the pages' ``changed`` push (topic ``meal``), and the hook
the box side uses to hear of its elder's meals.

Pages: every change of an elder's orders pushes ``changed`` (topic ``meal``, the elder named)
to everyone who may see the elder, and to the staff of the meal point concerned (no elder
named: they re-read their sheet); a published menu pushes to the point's staff, to the
pages of elders who chose that point, and once to each family of the point's area whose elder
has not chosen one (the nearest serves them). Boxes: `push_meals_to_box` sends the elder's
paired boxes their whole meals list (`protocol.Meals`, built by `server.meals.tv.box_meals`):
the paired box speaks only over its socket.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Changed, Message, Role, Topic
from server.meals.offers import serving_point
from server.meals.tv import box_meals
from server.models import CareLink, Device, Elder, ElderDiet, ServicePoint, User
from server.permissions import users_who_see_elders
from server.ws.hub import Hub


def family_of(db: Session, elder_id: int) -> list[User]:
    """The elder's linked, active family members."""
    return list(
        db.scalars(
            select(User)
            .join(CareLink, CareLink.user_id == User.id)
            .where(
                CareLink.elder_id == elder_id,
                User.role == Role.FAMILY,
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def point_staff(db: Session, point_id: int) -> set[int]:
    """Active meal staff of the point."""
    return set(
        db.scalars(
            select(User.id).where(
                User.role == Role.MEAL_STAFF,
                User.service_point_id == point_id,
                User.is_active.is_(True),
            )
        )
    )


async def _send(hub: Hub, users: set[int], devices: set[int], message: Message) -> None:
    if users:
        await hub.to_users(users, message)
    for device_id in devices:
        await hub.to_device(device_id, message)


def _to_boxes(db: Session, hub: Hub, elder_id: int) -> None:
    """Send the elder's meals list, whole, to each of their paired boxes."""
    devices = _boxes(db, elder_id)
    elder = db.get(Elder, elder_id)
    if not devices or elder is None or not elder.is_active:
        return
    hub.push(_send(hub, set(), devices, box_meals(db, elder)))


def announce_orders(
    db: Session, hub: Hub, elder_ids: Iterable[int], point_ids: Iterable[int], action: str
) -> None:
    """Push ``changed`` about these elders' orders to their pages, their boxes and the
    points' staff (after the commit; from any thread, never waits)."""
    data: dict[str, Any] = {"action": action}
    audiences = users_who_see_elders(db, elder_ids)
    for elder_id, users in sorted(audiences.items()):
        message = Changed(topic=Topic.MEAL, elder_id=elder_id, data=data)
        hub.push(_send(hub, users, set(), message))
        _to_boxes(db, hub, elder_id)
    staff: set[int] = set()
    for point_id in set(point_ids):
        staff |= point_staff(db, point_id)
    if staff:
        hub.push(_send(hub, staff, set(), Changed(topic=Topic.MEAL, data=data)))


def announce_menu(db: Session, hub: Hub, point_id: int, action: str) -> None:
    """Push ``changed`` about a point's menus to its staff and to the pages and boxes of the
    elders who chose that point."""
    data: dict[str, Any] = {"action": action, "service_point_id": point_id}
    staff = point_staff(db, point_id)
    if staff:
        hub.push(_send(hub, staff, set(), Changed(topic=Topic.MEAL, data=data)))
    elders = list(
        db.scalars(select(ElderDiet.elder_id).where(ElderDiet.preferred_point_id == point_id))
    )
    for elder_id, users in sorted(users_who_see_elders(db, elders).items()):
        message = Changed(topic=Topic.MEAL, elder_id=elder_id, data=data)
        hub.push(_send(hub, users, set(), message))
    for elder_id in sorted(set(elders) | _served_online(db, hub, point_id)):
        _to_boxes(db, hub, elder_id)

    # Families of the area's elders who have not fixed a point (the nearest serves them): one
    # push each, naming no elder, so their open family pages re-read the offer.
    area_id = db.scalar(select(ServicePoint.service_area_id).where(ServicePoint.id == point_id))
    if area_id is not None:
        families = set(
            db.scalars(
                select(CareLink.user_id)
                .join(Elder, Elder.id == CareLink.elder_id)
                .outerjoin(ElderDiet, ElderDiet.elder_id == Elder.id)
                .where(
                    Elder.service_area_id == area_id,
                    Elder.is_active.is_(True),
                    ElderDiet.preferred_point_id.is_(None),
                )
                .distinct()
            )
        )
        if families:
            hub.push(_send(hub, families, set(), Changed(topic=Topic.MEAL, data=data)))


def _served_online(db: Session, hub: Hub, point_id: int) -> set[int]:
    """Elders of the point's area with a box online now whose meals come from the point (their
    nearest, when the family fixed none): their TV shows the new menu at once."""
    point = db.get(ServicePoint, point_id)
    if point is None:
        return set()
    rows = db.execute(
        select(Device.id, Device.elder_id)
        .join(Elder, Elder.id == Device.elder_id)
        .where(
            Device.revoked_at.is_(None),
            Elder.is_active.is_(True),
            Elder.service_area_id == point.service_area_id,
        )
    ).all()
    served: set[int] = set()
    for device_id, elder_id in rows:
        if elder_id is None or elder_id in served or not hub.device_connected(device_id):
            continue
        elder = db.get(Elder, elder_id)
        serving = serving_point(db, elder) if elder is not None else None
        if serving is not None and serving.id == point_id:
            served.add(elder_id)
    return served


def _boxes(db: Session, elder_id: int) -> set[int]:
    return set(
        db.scalars(
            select(Device.id).where(Device.elder_id == elder_id, Device.revoked_at.is_(None))
        )
    )


def push_meals_to_box(db: Session, hub: Hub, elder: Elder, action: str = "changed") -> None:
    """The box hook: send the elder's paired boxes their meals list afresh (``action`` is
    kept for callers; the list says everything)."""
    _to_boxes(db, hub, elder.id)

"""Recording who read or changed whose health data, and which box messages were applied."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import AuditEntry, Device, ReceivedMessage, User


def record(
    db: Session,
    action: str,
    elder_id: int | None,
    *,
    user: User | None = None,
    device: Device | None = None,
    detail: str = "",
    target: str = "",
) -> None:
    """Add one audit entry to the current transaction.

    ``target`` names what an administration action was done to ("user:12", "area:3").
    """
    db.add(
        AuditEntry(
            action=action,
            elder_id=elder_id,
            actor_user_id=user.id if user else None,
            actor_device_id=device.id if device else None,
            detail=detail[:2000],
            target=target[:60],
        )
    )


def first_receipt(db: Session, device_id: int, key: str, type_: str) -> bool:
    """Mark the box's outbox item ``key`` applied; False if this device had sent it before.

    Keys are the box's own, so they are scoped to the sending device: the same key from
    another box is another message. The primary key (device, key) settles races.
    """
    seen = db.scalar(
        select(ReceivedMessage.key).where(
            ReceivedMessage.device_id == device_id, ReceivedMessage.key == key
        )
    )
    if seen is not None:
        return False
    try:
        with db.begin_nested():
            db.add(ReceivedMessage(device_id=device_id, key=key, type=type_))
    except IntegrityError:  # the same key from this device raced in on another socket
        return False
    return True

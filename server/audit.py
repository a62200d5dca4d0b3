"""Recording who read or changed whose health data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.models import AuditEntry, Device, User


def record(
    db: Session,
    action: str,
    elder_id: int | None,
    *,
    user: User | None = None,
    device: Device | None = None,
    detail: str = "",
) -> None:
    """Add one audit entry to the current transaction."""
    db.add(
        AuditEntry(
            action=action,
            elder_id=elder_id,
            actor_user_id=user.id if user else None,
            actor_device_id=device.id if device else None,
            detail=detail[:2000],
        )
    )

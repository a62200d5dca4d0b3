"""Pairing a new TV box with an elder through a 6-digit code shown on the TV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from protocol import PairingState
from server import audit
from server.core.config import Settings
from server.core.security import new_pairing_code, new_token, token_hash
from server.errors import Conflict, NotFound
from server.models import Device, PairingRequest, User, utcnow
from server.permissions import elder_for_device_management


@dataclass(frozen=True)
class NewPairing:
    """A fresh pairing request as handed to the box."""

    request_id: int
    code: str
    secret: str
    expires_at: datetime


def create_request(db: Session, settings: Settings, app_version: str = "") -> NewPairing:
    """A new code for a box, unique among the codes now waiting."""
    now = utcnow()
    for _ in range(20):
        code = new_pairing_code()
        clash = db.scalar(
            select(PairingRequest.id).where(
                PairingRequest.code == code,
                PairingRequest.expires_at > now,
                PairingRequest.claimed_at.is_(None),
            )
        )
        if clash is None:
            break
    else:  # pragma: no cover - a million codes cannot all be waiting
        raise Conflict("no free pairing code; try again")
    secret = new_token()
    row = PairingRequest(
        code=code,
        secret_hash=token_hash(secret),
        app_version=app_version[:64],
        expires_at=now + timedelta(minutes=settings.pairing_code_minutes),
    )
    db.add(row)
    db.flush()
    return NewPairing(row.id, code, secret, row.expires_at)


def request_for_secret(db: Session, secret: str) -> PairingRequest | None:
    """The pairing request a box holds the secret of."""
    return db.scalar(select(PairingRequest).where(PairingRequest.secret_hash == token_hash(secret)))


def state_of(request: PairingRequest) -> PairingState:
    """Whether the request waits, is paired, or expired unclaimed."""
    if request.claimed_at is not None:
        return PairingState.PAIRED
    if request.expires_at <= utcnow():
        return PairingState.EXPIRED
    return PairingState.WAITING


def claim(db: Session, user: User, code: str, elder_id: int) -> tuple[PairingRequest, Device]:
    """Bind the box showing ``code`` to the elder; its pairing secret becomes its token."""
    elder = elder_for_device_management(db, user, elder_id)
    if not elder.is_active:
        raise Conflict("this elder's service has ended; the care centre can take it up again")
    request = db.scalar(
        select(PairingRequest)
        .where(PairingRequest.code == code, PairingRequest.claimed_at.is_(None))
        .order_by(PairingRequest.id.desc())
    )
    if request is None or request.expires_at <= utcnow():
        raise NotFound("no TV box is showing that code; check the code on the TV screen")
    # The box's pairing secret becomes its device token; only its hash is ever stored.
    device = Device(
        elder_id=elder.id,
        token_hash=request.secret_hash,
        app_version=request.app_version,
        paired_by_id=user.id,
    )
    db.add(device)
    db.flush()
    request.claimed_at = utcnow()
    request.claimed_by_id = user.id
    request.device_id = device.id
    audit.record(db, "device.paired", elder.id, user=user, detail=f"device {device.id}")
    return request, device


def mark_collected(db: Session, device_id: int) -> None:
    """The box connected with its token: its pairing is complete.

    Every hello calls this: an indexed read, and a write only the first time.
    """
    pending = (
        PairingRequest.device_id == device_id,
        PairingRequest.collected_at.is_(None),
    )
    if db.scalar(select(PairingRequest.id).where(*pending).limit(1)) is not None:
        db.execute(
            update(PairingRequest)
            .where(*pending)
            .values(collected_at=utcnow())
            .execution_options(synchronize_session=False)
        )

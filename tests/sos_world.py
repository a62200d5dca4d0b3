"""Rows and clients the SOS tests share: paired boxes, contacts, supervisors, socket helpers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession

from protocol import Role, dump_message, parse_message
from server.core.security import new_token, token_hash
from server.models import AreaSupervisor, Device, Elder, EmergencyContact, User
from tests.factories import World, make_user


def make_device(db: Session, elder: Elder) -> tuple[str, int]:
    """A paired box of ``elder`` as pairing would leave it; (device token, device id)."""
    token = new_token()
    device = Device(elder_id=elder.id, token_hash=token_hash(token), name="TV box")
    db.add(device)
    db.flush()
    return token, device.id


def add_escalation_chain(db: Session, world: World) -> User:
    """Give elder A a second contact and area A a supervisor; the supervisor."""
    db.add(
        EmergencyContact(
            elder_id=world.elder_a.id, position=2, name="王强", phone="139-2", email="wq@test.anxin"
        )
    )
    supervisor = make_user(db, Role.OPERATOR, service_area_id=world.area_a.id, phone="137-9")
    db.add(AreaSupervisor(service_area_id=world.area_a.id, user_id=supervisor.id))
    db.flush()
    return supervisor


def send(ws: WebSocketTestSession, message: Any) -> None:
    """Send one protocol message on a test socket."""
    ws.send_text(dump_message(message))


def recv(ws: WebSocketTestSession) -> Any:
    """Receive one protocol message from a test socket."""
    return parse_message(ws.receive_text())

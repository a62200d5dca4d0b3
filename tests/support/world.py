"""Factories that build real rows in a real database for tests: users, elders, the two-sided
`World` of every role, paired boxes and an SOS escalation chain."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from protocol import Lang, Role
from server.core.security import hash_password, new_token, token_hash
from server.models import (
    AreaSupervisor,
    CareLink,
    Clinic,
    Device,
    Elder,
    EmergencyContact,
    ServiceArea,
    User,
)

_seq = itertools.count(1)
PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)


def make_user(db: Session, role: Role, **fields: object) -> User:
    """A user with the shared test password."""
    n = next(_seq)
    values: dict[str, object] = {
        "email": f"{role.value}{n}@test.anxin",
        "name": f"{role.value.title()} {n}",
        "password_hash": _HASH,
        "role": role,
        "lang": Lang.EN,
    }
    values.update(fields)
    user = User(**values)
    db.add(user)
    db.flush()
    return user


def make_elder(db: Session, **fields: object) -> Elder:
    """An elder living in Shanghai time."""
    n = next(_seq)
    values: dict[str, object] = {
        "name": f"Elder {n}",
        "birth_year": 1945,
        "lang": Lang.ZH,
        "timezone": "Asia/Shanghai",
        "address": f"{n} Test Road",
        "latitude": 39.9 + n / 1000,
        "longitude": 116.4 + n / 1000,
    }
    values.update(fields)
    elder = Elder(**values)
    db.add(elder)
    db.flush()
    return elder


def link(db: Session, user: User, elder: Elder, relation: str = "daughter") -> CareLink:
    """Link a family member to an elder."""
    row = CareLink(user_id=user.id, elder_id=elder.id, relation=relation)
    db.add(row)
    db.flush()
    return row


@dataclass
class World:
    """Two families, two clinics, two areas, and one of every role on each side."""

    area_a: ServiceArea
    area_b: ServiceArea
    clinic_a: Clinic
    clinic_b: Clinic
    elder_a: Elder
    elder_b: Elder
    family_a: User
    family_b: User
    doctor_a: User
    doctor_b: User
    operator_a: User
    operator_b: User
    admin: User

    def user(self, name: str) -> User:
        """A user of the world by attribute name."""
        value = getattr(self, name)
        assert isinstance(value, User)
        return value


def make_world(db: Session) -> World:
    """Build the two-sided world used by permission tests."""
    area_a, area_b = ServiceArea(name="Area A"), ServiceArea(name="Area B")
    clinic_a, clinic_b = Clinic(name="Clinic A"), Clinic(name="Clinic B")
    db.add_all([area_a, area_b, clinic_a, clinic_b])
    db.flush()
    elder_a = make_elder(db, name="王秀英", clinic_id=clinic_a.id, service_area_id=area_a.id)
    elder_b = make_elder(
        db, name="Margaret", lang=Lang.EN, clinic_id=clinic_b.id, service_area_id=area_b.id
    )
    db.add(EmergencyContact(elder_id=elder_a.id, position=1, name="李娜", phone="138"))
    family_a = make_user(db, Role.FAMILY)
    family_b = make_user(db, Role.FAMILY)
    link(db, family_a, elder_a)
    link(db, family_b, elder_b, "son")
    world = World(
        area_a=area_a,
        area_b=area_b,
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        elder_a=elder_a,
        elder_b=elder_b,
        family_a=family_a,
        family_b=family_b,
        doctor_a=make_user(db, Role.DOCTOR, clinic_id=clinic_a.id),
        doctor_b=make_user(db, Role.DOCTOR, clinic_id=clinic_b.id),
        operator_a=make_user(db, Role.OPERATOR, service_area_id=area_a.id),
        operator_b=make_user(db, Role.OPERATOR, service_area_id=area_b.id),
        admin=make_user(db, Role.ADMIN),
    )
    db.flush()
    return world


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

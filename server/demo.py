"""A demo world: two elders, their families, a doctor, clinic staff, an operator, an admin,
two service areas, a clinic, a meal point, a care centre and a home-service provider."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server.core.security import hash_password
from server.models import (
    CareLink,
    Clinic,
    Elder,
    EmergencyContact,
    ServiceArea,
    ServicePoint,
    ServicePointKind,
    User,
)


@dataclass(frozen=True)
class DemoLogin:
    """A printed log-in of the demo world."""

    role: Role
    email: str
    password: str
    name: str


DEMO_LOGINS = (
    DemoLogin(Role.FAMILY, "family1@demo.anxin", "demo-family-1", "李娜"),
    DemoLogin(Role.FAMILY, "family2@demo.anxin", "demo-family-2", "David Chen"),
    DemoLogin(Role.DOCTOR, "doctor@demo.anxin", "demo-doctor", "张伟医生"),
    DemoLogin(Role.OPERATOR, "operator@demo.anxin", "demo-operator", "刘芳"),
    DemoLogin(Role.CLINIC_STAFF, "clinic@demo.anxin", "demo-clinic", "陈静"),
    DemoLogin(Role.ADMIN, "admin@demo.anxin", "demo-admin", "Admin"),
)
# Made by the meals feature's demo seed, with its meal point (`server.meals.demo`).
MEAL_STAFF_DEMO = DemoLogin(Role.MEAL_STAFF, "meals@demo.anxin", "demo-meals", "周敏")


def seed_demo(db: Session, seeds: Iterable[Callable[[Session], None]] = ()) -> bool:
    """Create the demo world unless it is already there; True when it was created.

    ``seeds`` are the features' own additions (`server.features.demo_seeds`), run last.
    """
    if db.scalar(select(User.id).where(User.email == DEMO_LOGINS[0].email)) is not None:
        return False
    area = ServiceArea(name="朝阳区 Chaoyang", centre_latitude=39.9219, centre_longitude=116.4435)
    haidian = ServiceArea(name="海淀区 Haidian", centre_latitude=39.9593, centre_longitude=116.2981)
    clinic = Clinic(
        name="朝阳社区卫生服务中心 Chaoyang Community Clinic",
        address="北京市朝阳区团结湖路 12 号",
        phone="010-6500-1234",
        latitude=39.9275,
        longitude=116.4672,
    )
    db.add_all([area, haidian, clinic])
    db.flush()
    db.add_all(
        [
            ServicePoint(
                kind=ServicePointKind.MEAL_POINT,
                name="幸福老年餐桌 Happiness Meal Point",
                address="北京市朝阳区水碓子东路 5 号",
                latitude=39.9301,
                longitude=116.4630,
                service_area_id=area.id,
            ),
            ServicePoint(
                kind=ServicePointKind.CARE_CENTRE,
                name="朝阳居家养老服务中心 Chaoyang Care Centre",
                address="北京市朝阳区甜水园街 8 号",
                latitude=39.9320,
                longitude=116.4705,
                service_area_id=area.id,
            ),
            ServicePoint(
                kind=ServicePointKind.SERVICE_PROVIDER,
                name="安康家政 Ankang Home Services",
                address="北京市朝阳区团结湖南里 20 号",
                latitude=39.9247,
                longitude=116.4690,
                service_area_id=area.id,
            ),
        ]
    )
    users = {}
    for login in DEMO_LOGINS:
        user = User(
            email=login.email,
            name=login.name,
            password_hash=hash_password(login.password),
            role=login.role,
            lang=Lang.EN if login.email.startswith("family2") else Lang.ZH,
            clinic_id=clinic.id if login.role in (Role.DOCTOR, Role.CLINIC_STAFF) else None,
            service_area_id=area.id if login.role is Role.OPERATOR else None,
            phone="138-0000-0001",
        )
        db.add(user)
        users[login.email] = user
    db.flush()
    wang = Elder(
        name="王秀英",
        birth_year=1942,
        lang=Lang.ZH,
        timezone="Asia/Shanghai",
        address="北京市朝阳区团结湖北里 3 号楼 2 单元 501",
        latitude=39.9288,
        longitude=116.4651,
        lives_alone=True,
        care_notes="高血压，2 型糖尿病。听力较弱，请大声说话。",
        clinic_id=clinic.id,
        service_area_id=area.id,
        register_ref="110105-0001",
        phone="13801380001",
    )
    chen = Elder(
        name="Margaret Chen",
        birth_year=1948,
        lang=Lang.EN,
        timezone="Asia/Shanghai",
        address="Building 7, Shuiduizi West Road, Chaoyang, Beijing",
        latitude=39.9262,
        longitude=116.4612,
        lives_alone=False,
        care_notes="Atrial fibrillation; on warfarin. Walks with a frame.",
        clinic_id=clinic.id,
        service_area_id=area.id,
        register_ref="110105-0002",
        phone="13801380002",
    )
    db.add_all([wang, chen])
    db.flush()
    # More of the area's register (as a CSV import would bring them), for the elder list.
    register = [
        ("110105-0003", "李桂兰", 1939, "团结湖中路 5 号楼 301", 39.9301, 116.4668, True),
        ("110105-0004", "张建国", 1945, "农展馆南路 12 号院 2 号楼", 39.9332, 116.4702, False),
        ("110105-0005", "赵淑珍", 1936, "团结湖南里 8 号楼 102", 39.9270, 116.4689, True),
        ("110105-0006", "刘志强", 1950, "水碓子东路 2 号楼 605", 39.9255, 116.4640, False),
    ]
    db.add_all(
        Elder(
            register_ref=ref,
            name=name,
            birth_year=year,
            lang=Lang.ZH,
            address=f"北京市朝阳区{address}",
            latitude=lat,
            longitude=lon,
            lives_alone=alone,
            phone=f"1390139{ref[-4:]}",
            service_area_id=area.id,
        )
        for ref, name, year, address, lat, lon, alone in register
    )
    family1, family2 = users["family1@demo.anxin"], users["family2@demo.anxin"]
    db.add_all(
        [
            CareLink(user_id=family1.id, elder_id=wang.id, relation="女儿 daughter"),
            CareLink(user_id=family2.id, elder_id=chen.id, relation="son"),
            EmergencyContact(
                elder_id=wang.id,
                position=1,
                name="李娜",
                relation="女儿",
                phone="138-0000-0001",
                user_id=family1.id,
            ),
            EmergencyContact(
                elder_id=wang.id, position=2, name="王强", relation="儿子", phone="139-0000-0002"
            ),
            EmergencyContact(
                elder_id=chen.id,
                position=1,
                name="David Chen",
                relation="son",
                phone="137-0000-0003",
                user_id=family2.id,
            ),
        ]
    )
    db.flush()
    for seed in seeds:
        seed(db)
    return True

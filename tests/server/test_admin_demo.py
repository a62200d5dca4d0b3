"""The demo world is ready for administration: areas on the map, every kind of organisation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.__main__ import _print_demo
from server.core.config import Settings
from server.demo import DEMO_LOGINS, seed_demo
from server.models import ServiceArea, ServicePoint, ServicePointKind, User
from server.runtime import Runtime
from tests.server.admin_support import HTML, page_login


def test_the_demo_has_area_centres_a_provider_and_clinic_staff(
    client: TestClient, rt: Runtime, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with rt.db.session() as db:
        assert seed_demo(db)
    with rt.db.session() as db:
        areas = db.scalars(select(ServiceArea)).all()
        assert areas and all(39 < (a.centre_latitude or 0) < 41 for a in areas)
        kinds = {p.kind for p in db.scalars(select(ServicePoint))}
        assert ServicePointKind.SERVICE_PROVIDER in kinds
        clinic_staff = db.scalar(select(User).where(User.email == "clinic@demo.anxin"))
        assert clinic_staff is not None and clinic_staff.clinic_id is not None
    admin = next(d for d in DEMO_LOGINS if d.role.value == "admin")
    page_login(client, admin.email, admin.password)
    assert "朝阳区 Chaoyang" in client.get("/admin/areas", headers=HTML).text
    _print_demo(settings, "http://127.0.0.1:8000")
    assert "http://127.0.0.1:8000/admin" in capsys.readouterr().out

"""The operator's home stays small however many elders the area holds, and leads to the
register where every one of them can be found."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.models import AuditEntry
from server.runtime import Runtime
from server.web.homes import OPERATOR_CARDS
from tests.support.world import PASSWORD, World, make_elder

HTML = {"accept": "text/html"}


def test_a_large_area_shows_the_first_elders_and_links_to_the_register(
    client: TestClient, rt: Runtime, world: World
) -> None:
    with rt.db.session() as db:
        for i in range(OPERATOR_CARDS + 5):
            make_elder(db, name=f"居民{i:03d}", service_area_id=world.area_a.id)
        db.commit()
    form = {"email": world.operator_a.email, "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    page = client.get("/operator?lang=en", headers=HTML)
    assert page.status_code == 200
    assert page.text.count('class="card elder"') == OPERATOR_CARDS
    assert 'id="more-elders"' in page.text and 'href="/elders"' in page.text
    with rt.db.session() as db:
        viewed = db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "elder.viewed_on_operator_page")
        )
    assert viewed == OPERATOR_CARDS  # what was shown is what is audited

    # A small area shows everyone, and still offers the register.
    form = {"email": world.operator_b.email, "password": PASSWORD}
    client.post("/logout")
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    small = client.get("/operator?lang=en", headers=HTML)
    assert small.text.count('class="card elder"') == 1
    assert 'id="more-elders"' not in small.text and 'id="open-register"' in small.text

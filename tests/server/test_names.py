"""Names people type are trimmed; a blank one is refused with a clear error, changing nothing."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer
from tests.server.test_reminders_api import TODAY, _page_form, login_page, make_plan, plan_body
from tests.support.world import World

# What a slip of the thumb or a Chinese input method's full-width space bar types.
BLANKS = ["", "   ", "\u3000\u3000", "\t\n "]


def elder_name(client: TestClient, world: World) -> str:
    resp = client.get(f"/api/elders/{world.elder_a.id}", headers=bearer(client, world.admin.email))
    name: str = resp.json()["name"]
    return name


@pytest.mark.parametrize("blank", BLANKS)
def test_a_blank_elder_name_is_refused_and_nothing_changes(
    client: TestClient, world: World, blank: str
) -> None:
    headers = bearer(client, world.family_a.email)
    resp = client.patch(
        f"/api/elders/{world.elder_a.id}", json={"name": blank, "lang": "en"}, headers=headers
    )
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "invalid" and "name: Value error, cannot be blank" in body["detail"]
    after = client.get(f"/api/elders/{world.elder_a.id}", headers=headers).json()
    assert (after["name"], after["lang"]) == (world.elder_a.name, "zh"), "nothing was changed"


def test_an_elder_name_is_trimmed(client: TestClient, world: World) -> None:
    headers = bearer(client, world.family_a.email)
    resp = client.patch(
        f"/api/elders/{world.elder_a.id}", json={"name": "\u3000 王秀兰 \n"}, headers=headers
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "王秀兰" == elder_name(client, world)
    too_long = client.patch(
        f"/api/elders/{world.elder_a.id}", json={"name": " " + "名" * 121}, headers=headers
    )
    assert too_long.status_code == 422 and "at most 120 characters" in too_long.json()["detail"]


@pytest.mark.parametrize("blank", BLANKS)
def test_a_blank_medicine_name_is_refused_over_the_api(
    client: TestClient, world: World, blank: str
) -> None:
    headers = bearer(client, world.family_a.email)
    created = client.post(
        f"/api/elders/{world.elder_a.id}/medication-plans",
        json=plan_body(medicine=blank),
        headers=headers,
    )
    assert created.status_code == 422
    assert "medicine: Value error, cannot be blank" in created.json()["detail"]
    plan = make_plan(client, world, medicine="  Metformin  ")
    assert plan["medicine"] == "Metformin"
    changed = client.patch(
        f"/api/medication-plans/{plan['id']}", json={"medicine": blank}, headers=headers
    )
    assert changed.status_code == 422 and changed.json()["code"] == "invalid"
    listed = client.get(f"/api/elders/{world.elder_a.id}/medication-plans", headers=headers)
    assert [p["medicine"] for p in listed.json()] == ["Metformin"], "nothing else was stored"


def test_the_family_page_refuses_a_blank_medicine_name_inline(
    client: TestClient, world: World
) -> None:
    login_page(client, world.family_a.email)
    form = {
        "csrf": _page_form(client),
        "elder_id": str(world.elder_a.id),
        "medicine": "\u3000 ",
        "times": "08:00",
        "start_date": TODAY,
        "window_minutes": "30",
    }
    resp = client.post("/family/medicines?lang=en", data=form, headers={"Accept": "text/html"})
    assert resp.status_code == 422
    assert "Please enter the medicine&#39;s name." in resp.text, "shown beside the form"
    saved = client.post(
        "/family/medicines", data=form | {"medicine": "  Metformin "}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    page = client.get("/family", headers={"Accept": "text/html"}).text
    assert len(re.findall(r'id="plan-(\d+)"', page)) == 1, "only the named plan was stored"
    headers = bearer(client, world.family_a.email)
    listed = client.get(f"/api/elders/{world.elder_a.id}/medication-plans", headers=headers)
    assert [p["medicine"] for p in listed.json()] == ["Metformin"]

"""How the TV speaks to an elder: the family's form, its mistakes, who may change it, and
the box hearing of it (real database, real socket)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from protocol import ClientKind, ElderUpdated, Hello, MedPlans, Welcome
from tests.conftest import bearer
from tests.server.test_box_socket import pair_box, recv, send
from tests.server.test_reminders_api import _page_form, login_page
from tests.support.world import World


def speech_of(client: TestClient, world: World, elder_id: int) -> tuple[int, int]:
    elder = client.get(f"/api/elders/{elder_id}", headers=bearer(client, world.admin.email)).json()
    return elder["speech_rate_wpm"], elder["speech_volume_pct"]


def test_family_form_sets_slower_softer_speech_and_the_tv_hears_at_once(
    client: TestClient, world: World
) -> None:
    token, _ = pair_box(client, world)
    login_page(client, world.family_a.email)
    page = client.get("/family?lang=en", headers={"Accept": "text/html"}).text
    assert "How the TV speaks" in page and 'id="speech-rate-' in page
    assert '<option value="140" selected>Normal</option>' in page
    with client.websocket_connect("/ws/box") as box:
        send(box, Hello(client=ClientKind.BOX, device_token=token))
        assert isinstance(recv(box), Welcome)
        assert isinstance(recv(box), MedPlans)  # the state sent on connect
        resp = client.post(
            f"/family/elders/{world.elder_a.id}/speech",
            data={"csrf": _page_form(client), "rate": "110", "volume": "80"},
            follow_redirects=False,
        )
        assert resp.status_code == 303 and "done=speech" in resp.headers["location"]
        change = recv(box)
        assert isinstance(change, ElderUpdated)
        assert (change.elder.speech_rate_wpm, change.elder.speech_volume_pct) == (110, 80)
    assert speech_of(client, world, world.elder_a.id) == (110, 80)
    page = client.get("/family?done=speech&lang=en", headers={"Accept": "text/html"}).text
    assert "Saved. The TV speaks this way from now on." in page
    assert '<option value="110" selected>Slower</option>' in page
    assert '<option value="80" selected>Medium</option>' in page


@pytest.mark.parametrize(
    "fields", [{"rate": "fast"}, {"rate": "500"}, {"volume": "0"}, {"volume": ""}]
)
def test_bad_values_are_explained_and_change_nothing(
    client: TestClient, world: World, fields: dict[str, str]
) -> None:
    login_page(client, world.family_a.email)
    form = {"csrf": _page_form(client), "rate": "110", "volume": "80"} | fields
    resp = client.post(
        f"/family/elders/{world.elder_a.id}/speech?lang=en",
        data=form,
        headers={"Accept": "text/html"},
    )
    assert resp.status_code == 422
    assert "Choose a speed and a loudness from the lists." in resp.text
    assert f'id="speech-error-{world.elder_a.id}"' in resp.text
    assert speech_of(client, world, world.elder_a.id) == (140, 100)


def test_only_the_elders_own_family_may_change_it(client: TestClient, world: World) -> None:
    login_page(client, world.family_b.email)
    csrf = _page_form(client)
    other = client.post(
        f"/family/elders/{world.elder_a.id}/speech",
        data={"csrf": csrf, "rate": "110", "volume": "60"},
        headers={"Accept": "application/json"},
    )
    assert other.status_code == 404
    forged = client.post(
        f"/family/elders/{world.elder_b.id}/speech",
        data={"csrf": "forged", "rate": "110", "volume": "60"},
    )
    assert forged.status_code == 403
    assert speech_of(client, world, world.elder_a.id) == (140, 100)
    assert speech_of(client, world, world.elder_b.id) == (140, 100)
    client.cookies.clear()
    login_page(client, world.doctor_a.email)
    doctor_page = client.get("/doctor", headers={"Accept": "text/html"}).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', doctor_page)
    doctor = client.post(
        f"/family/elders/{world.elder_a.id}/speech",
        data={"csrf": csrf[1] if csrf else "", "rate": "110", "volume": "60"},
    )
    assert doctor.status_code == 403


def test_every_elder_a_box_is_handed_carries_the_speech_settings(
    client: TestClient, world: World
) -> None:
    # The pairing status and /api/box/me used to hand a box an elder without them, so a box
    # paired through the HTTP fallback spoke at the default rate until its first welcome.
    admin = bearer(client, world.admin.email)
    resp = client.patch(
        f"/api/elders/{world.elder_a.id}",
        json={"speech_rate_wpm": 110, "speech_volume_pct": 80},
        headers=admin,
    )
    assert resp.status_code == 200
    req = client.post("/api/pairing/requests").json()
    claim = client.post(
        "/api/pairing/claim",
        json={"code": req["code"], "elder_id": world.elder_a.id},
        headers=bearer(client, world.family_a.email),
    )
    assert claim.status_code == 201
    status = client.post("/api/pairing/status", json={"pairing_secret": req["pairing_secret"]})
    elder = status.json()["elder"]
    assert (elder["speech_rate_wpm"], elder["speech_volume_pct"]) == (110, 80)
    token = status.json()["device_token"]
    me = client.get("/api/box/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["elder"]["speech_rate_wpm"], me["elder"]["speech_volume_pct"]) == (110, 80)

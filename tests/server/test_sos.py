"""SOS on the server: stored once, fanned out, escalated until acknowledged, told to the box."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from protocol import (
    Ack,
    CheckInRuleSet,
    ClientKind,
    Heartbeat,
    Hello,
    MedPlans,
    SosAcknowledged,
    SosAlertPush,
    SosRaise,
    SosSource,
    Welcome,
)
from server.app import create_app
from server.core.config import Settings
from server.models import SosAlert, SosStep, utcnow
from server.runtime import Runtime
from server.sos.delivery import deliver_pending
from tests.conftest import bearer
from tests.support.sockets import recv, send
from tests.support.world import World, add_escalation_chain, make_device


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """No scheduler: these tests drive the sweep by hand with their own clock."""
    return Settings(database_url=db_url, data_dir=tmp_path / "data", scheduler_enabled=False)


@pytest.fixture
def box_token(rt: Runtime, world: World) -> str:
    with rt.db.session() as db:
        return make_device(db, world.elder_a)[0]


def page_hello(ws, client: TestClient, email: str) -> None:  # type: ignore[no-untyped-def]
    token = client.post(
        "/api/auth/login", json={"email": email, "password": "correct horse battery"}
    ).json()["access_token"]
    send(ws, Hello(client=ClientKind.WEB, token=token))
    assert isinstance(recv(ws), Welcome)


def box_hello(ws, token: str) -> None:  # type: ignore[no-untyped-def]
    send(ws, Hello(client=ClientKind.BOX, device_token=token))
    assert isinstance(recv(ws), Welcome)
    assert isinstance(recv(ws), MedPlans)  # the state sent on connect


def next_of(ws, kind: type) -> object:  # type: ignore[no-untyped-def]
    """The next message of ``kind`` (pages also get `changed` pushes)."""
    for _ in range(10):
        message = recv(ws)
        if isinstance(message, kind):
            return message
    raise AssertionError(f"no {kind.__name__} among the next 10 messages")


def alert_count(rt: Runtime) -> int:
    with rt.db.session() as db:
        return int(db.scalar(select(func.count()).select_from(SosAlert)) or 0)


def raise_sos(client: TestClient, token: str, key: str = "sos-key-0001") -> None:
    with client.websocket_connect("/ws/box") as box:
        box_hello(box, token)
        send(box, SosRaise(key=key, source=SosSource.RED_KEY))
        assert isinstance(recv(box), Ack)


def test_sos_reaches_the_board_once_and_not_other_families(
    client: TestClient, world: World, rt: Runtime, box_token: str
) -> None:
    with (
        client.websocket_connect("/ws/web") as board,
        client.websocket_connect("/ws/web") as stranger,
        client.websocket_connect("/ws/box") as box,
    ):
        page_hello(board, client, world.operator_a.email)
        page_hello(stranger, client, world.family_b.email)
        box_hello(box, box_token)
        raised = SosRaise(key="sos-key-0001", source=SosSource.RED_KEY)
        send(box, raised)
        first = recv(box)
        assert isinstance(first, Ack) and first.key == raised.key and not first.duplicate
        pushed = next_of(board, SosAlertPush)
        assert pushed.elder_name == world.elder_a.name and pushed.status == "open"  # type: ignore[attr-defined]
        # The same SOS again (a resend after a lost ack): acked as a duplicate, no new alert.
        send(box, raised)
        again = recv(box)
        assert isinstance(again, Ack) and again.duplicate
        # Another family's page heard nothing: the next thing it gets is its own heartbeat.
        send(stranger, Heartbeat(id="hb"))
        assert isinstance(recv(stranger), Heartbeat)
    assert alert_count(rt) == 1
    with rt.db.session() as db:
        kinds = [s.kind.value for s in db.scalars(select(SosStep).order_by(SosStep.id))]
    assert kinds[:3] == ["raised", "stored", "fanned_out"]


def test_acknowledge_tells_the_box_who_answered(
    client: TestClient, world: World, rt: Runtime, box_token: str
) -> None:
    with client.websocket_connect("/ws/box") as box:
        box_hello(box, box_token)
        send(box, SosRaise(key="sos-key-0002", source=SosSource.RED_KEY))
        assert isinstance(recv(box), Ack)
        alerts = client.get("/api/sos/alerts", headers=bearer(client, world.family_a.email))
        [alert] = alerts.json()
        resp = client.post(
            f"/api/sos/alerts/{alert['id']}/acknowledge",
            headers=bearer(client, world.family_a.email),
        )
        assert resp.status_code == 200, resp.text
        told = next_of(box, SosAcknowledged)
    assert told.by_name == world.family_a.name and told.relation == "daughter"  # type: ignore[attr-defined]
    body = resp.json()
    assert body["status"] == "acknowledged" and body["seconds_to_ack"] >= 0
    detail = client.get(
        f"/api/sos/alerts/{alert['id']}", headers=bearer(client, world.operator_a.email)
    ).json()
    kinds = [s["kind"] for s in detail["timeline"]]
    assert "acknowledged" in kinds and "box_told" in kinds
    assert detail["contacts"][0]["name"] == "李娜"


def test_escalation_walks_the_contacts_then_the_supervisor(
    client: TestClient, world: World, rt: Runtime, box_token: str
) -> None:
    with rt.db.session() as db:
        supervisor = add_escalation_chain(db, world)
    raise_sos(client, box_token)
    with rt.db.session() as db:
        stored = db.scalar(select(SosAlert.stored_at))
    assert stored is not None
    texts = rt.texts.sent  # type: ignore[attr-defined]
    interval = rt.settings.sos_escalation_seconds
    # Not yet due: nothing happens before the interval.
    deliver_pending(rt, lambda: stored + timedelta(seconds=interval - 1))
    assert texts == []
    deliver_pending(rt, lambda: stored + timedelta(seconds=interval + 1))
    assert [phone for phone, _ in texts] == ["138"], "contact #1 first"
    deliver_pending(rt, lambda: stored + timedelta(seconds=interval + 2))
    assert len(texts) == 1, "the next level waits a whole interval"
    deliver_pending(rt, lambda: stored + timedelta(seconds=2 * interval + 2))
    assert [phone for phone, _ in texts] == ["138", "139-2"]
    deliver_pending(rt, lambda: stored + timedelta(seconds=3 * interval + 3))
    assert [phone for phone, _ in texts] == ["138", "139-2", supervisor.phone]
    deliver_pending(rt, lambda: stored + timedelta(seconds=10 * interval))
    assert len(texts) == 3, "after the supervisor, escalation stops"
    detail = client.get("/api/sos/alerts", headers=bearer(client, world.operator_a.email)).json()
    kinds = [s["kind"] for s in detail[0]["timeline"]]
    assert kinds.count("contact_alerted") == 2 and kinds.count("supervisor_alerted") == 1
    assert detail[0]["level"] == 3


def test_acknowledging_stops_escalation(
    client: TestClient, world: World, rt: Runtime, box_token: str
) -> None:
    with rt.db.session() as db:
        add_escalation_chain(db, world)
    raise_sos(client, box_token)
    with rt.db.session() as db:
        alert_id, stored = db.execute(select(SosAlert.id, SosAlert.stored_at)).one()
    interval = rt.settings.sos_escalation_seconds
    deliver_pending(rt, lambda: stored + timedelta(seconds=interval + 1))
    assert len(rt.texts.sent) == 1  # type: ignore[attr-defined]
    resp = client.post(
        f"/api/sos/alerts/{alert_id}/acknowledge", headers=bearer(client, world.operator_a.email)
    )
    assert resp.status_code == 200
    deliver_pending(rt, lambda: stored + timedelta(seconds=10 * interval))
    assert len(rt.texts.sent) == 1, "nobody else is alerted once someone answered"  # type: ignore[attr-defined]


def test_two_sweeps_at_once_send_each_step_once(
    client: TestClient, world: World, rt: Runtime, box_token: str
) -> None:
    import threading

    with rt.db.session() as db:
        add_escalation_chain(db, world)
    raise_sos(client, box_token)
    with rt.db.session() as db:
        stored = db.scalar(select(SosAlert.stored_at))
    assert stored is not None
    due = stored + timedelta(seconds=rt.settings.sos_escalation_seconds + 1)
    other = Runtime.from_settings(rt.settings)  # a second server process's runtime
    other.texts = rt.texts
    sweeps = [threading.Thread(target=deliver_pending, args=(r, lambda: due)) for r in (rt, other)]
    for sweep in sweeps:
        sweep.start()
    for sweep in sweeps:
        sweep.join(timeout=30)
    other.db.dispose()
    assert len(rt.texts.sent) == 1  # type: ignore[attr-defined]


def test_the_real_scheduler_escalates_at_the_interval(db_url: str, tmp_path: Path) -> None:
    from tests.support.world import make_world

    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path / "d",
        sos_escalation_seconds=0.5,
        sweep_interval_scale=0.1,
    )
    rt = Runtime.from_settings(settings)
    with rt.db.session() as db:
        world = make_world(db)
        token, _ = make_device(db, world.elder_a)
    from tests.support.waiting import wait_until

    with TestClient(create_app(runtime=rt)) as client:
        raise_sos(client, token)
        wait_until(lambda: len(rt.texts.sent) >= 1, 10, "contact #1 texted")  # type: ignore[attr-defined]
        with rt.db.session() as db:
            stored = db.scalar(select(SosAlert.stored_at))
            first = db.scalar(select(SosStep.at).where(SosStep.kind == "contact_alerted"))
        assert stored is not None and first is not None
        assert (first - stored).total_seconds() >= 0.5
    rt.db.dispose()


def test_sensor_event_needs_a_device_token(
    client: TestClient, world: World, rt: Runtime, box_token: str
) -> None:
    body = {"key": "sensor-0001", "kind": "fall"}
    bad = client.post(
        "/api/box/sensor-events", json=body, headers={"Authorization": "Bearer not-a-token"}
    )
    assert bad.status_code == 401
    person = client.post(
        "/api/box/sensor-events", json=body, headers=bearer(client, world.family_a.email)
    )
    assert person.status_code == 401, "a person's token is not a box's"
    assert alert_count(rt) == 0
    ok = client.post(
        "/api/box/sensor-events", json=body, headers={"Authorization": f"Bearer {box_token}"}
    )
    assert ok.status_code == 201 and ok.json()["duplicate"] is False
    again = client.post(
        "/api/box/sensor-events", json=body, headers={"Authorization": f"Bearer {box_token}"}
    )
    assert again.json() == {"alert_id": ok.json()["alert_id"], "duplicate": True}
    [alert] = client.get("/api/sos/alerts", headers=bearer(client, world.operator_a.email)).json()
    assert alert["source"] == "sensor" and alert["detail"] == "fall"
    invalid = client.post(
        "/api/box/sensor-events",
        json={"key": "x"},
        headers={"Authorization": f"Bearer {box_token}"},
    )
    assert invalid.status_code == 422


ACK_EXPECT = {"family_a": 200, "operator_a": 200, "admin": 200, "doctor_a": 403}


@pytest.mark.parametrize(
    "role", ["family_a", "family_b", "doctor_a", "doctor_b", "operator_a", "operator_b", "admin"]
)
def test_who_may_see_and_acknowledge(
    client: TestClient, world: World, rt: Runtime, box_token: str, role: str
) -> None:
    raise_sos(client, box_token)
    headers = bearer(client, world.user(role).email)
    listed = client.get("/api/sos/alerts", headers=headers).json()
    sees = role in ("family_a", "doctor_a", "operator_a", "admin")
    assert len(listed) == (1 if sees else 0)
    with rt.db.session() as db:
        alert_id = db.scalar(select(SosAlert.id))
    read = client.get(f"/api/sos/alerts/{alert_id}", headers=headers)
    assert read.status_code == (200 if sees else 404)
    ack = client.post(f"/api/sos/alerts/{alert_id}/acknowledge", headers=headers)
    assert ack.status_code == ACK_EXPECT.get(role, 404)
    resolve = client.post(
        f"/api/sos/alerts/{alert_id}/resolve",
        json={"outcome": "false_alarm", "note": "pressed by mistake"},
        headers=headers,
    )
    assert resolve.status_code == ACK_EXPECT.get(role, 404)
    if resolve.status_code == 200:
        assert resolve.json()["outcome"] == "false_alarm"
    call = client.post(f"/api/sos/alerts/{alert_id}/call", headers=headers)
    allowed = role in ACK_EXPECT and role != "doctor_a"
    assert call.status_code == (200 if allowed else ACK_EXPECT.get(role, 404))
    if allowed:
        elder_id = world.elder_a.id
        assert call.json() == {"call_url": f"/family/call/{elder_id}?sos={alert_id}"}


def test_board_and_monthly_figures_on_the_pages(
    client: TestClient, world: World, rt: Runtime, box_token: str
) -> None:
    raise_sos(client, box_token)
    form = {"email": world.operator_a.email, "password": "correct horse battery"}
    client.post("/login", data=form)
    page = client.get("/operator", headers={"accept": "text/html"})
    assert 'id="sos-board"' in page.text and 'data-unanswered="1"' in page.text
    assert "李娜" in page.text and world.elder_a.address in page.text
    stats = client.get("/api/sos/stats", headers=bearer(client, world.operator_a.email)).json()
    assert stats[0]["alerts"] == 1 and stats[0]["acknowledged"] == 0
    assert stats[0]["month"] == utcnow().strftime("%Y-%m")


CHECK_IN_EXPECT = {"family_a": 200, "operator_a": 200, "admin": 200, "doctor_a": 403}


@pytest.mark.parametrize("role", ["family_a", "family_b", "doctor_a", "operator_b", "admin"])
def test_check_in_time_reaches_the_box_now_and_on_connect(
    client: TestClient, world: World, box_token: str, role: str
) -> None:
    headers = bearer(client, world.user(role).email)
    url = f"/api/sos/check-in/{world.elder_a.id}"
    with client.websocket_connect("/ws/box") as box:
        send(box, Hello(client=ClientKind.BOX, device_token=box_token))
        assert isinstance(recv(box), Welcome)
        assert isinstance(recv(box), MedPlans)  # the state sent on connect
        resp = client.put(url, json={"time_local": "09:30"}, headers=headers)
        assert resp.status_code == CHECK_IN_EXPECT.get(role, 404)
        if resp.status_code == 200:
            assert recv(box) == CheckInRuleSet(time_local="09:30")
    with client.websocket_connect("/ws/box") as box:
        send(box, Hello(client=ClientKind.BOX, device_token=box_token))
        assert isinstance(recv(box), Welcome)
        assert isinstance(recv(box), MedPlans)  # the state sent on connect
        if resp.status_code == 200:  # a box connecting later gets the rule too
            assert recv(box) == CheckInRuleSet(time_local="09:30")
        off = client.put(url, json={"time_local": None}, headers=headers)
        assert off.status_code == resp.status_code
        if off.status_code == 200:
            assert recv(box) == CheckInRuleSet(time_local=None)
    bad = client.put(url, json={"time_local": "9:30pm"}, headers=headers)
    assert bad.status_code == 422


def test_family_sets_the_check_in_time_on_the_family_page(
    client: TestClient, world: World, box_token: str
) -> None:
    import re

    form = {"email": world.family_a.email, "password": "correct horse battery"}
    client.post("/login", data=form)
    page = client.get("/family", headers={"accept": "text/html"})
    assert f'id="sos-check-in-{world.elder_a.id}"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    url = f"/sos/check-in/{world.elder_a.id}"
    headers = {"referer": "http://testserver/family"}
    done = client.post(
        url,
        data={"csrf": csrf.group(1), "time_local": "08:45"},
        headers=headers,
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/family"
    rule = client.get(
        f"/api/sos/check-in/{world.elder_a.id}", headers=bearer(client, form["email"])
    )
    assert rule.json()["time_local"] == "08:45"
    forged = client.post(url, data={"csrf": "nope", "time_local": "07:00"}, headers=headers)
    assert forged.status_code == 403
    other = client.post(
        f"/sos/check-in/{world.elder_b.id}",
        data={"csrf": csrf.group(1), "time_local": "07:00"},
        headers=headers,
    )
    assert other.status_code == 404, "another family's elder"


def test_board_call_button_opens_an_auto_answered_call(
    client: TestClient, world: World, rt: Runtime, box_token: str
) -> None:
    import re

    raise_sos(client, box_token)
    with rt.db.session() as db:
        alert_id = db.scalar(select(SosAlert.id))
    client.post(
        "/login", data={"email": world.operator_a.email, "password": "correct horse battery"}
    )
    board = client.get("/operator", headers={"accept": "text/html"}).text
    assert f'id="sos-call-{alert_id}"' in board
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', board)
    assert csrf is not None
    bad = client.post(
        f"/sos/alerts/{alert_id}/call", data={"csrf": "forged"}, follow_redirects=False
    )
    assert bad.status_code == 403
    resp = client.post(
        f"/sos/alerts/{alert_id}/call", data={"csrf": csrf.group(1)}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/family/call/{world.elder_a.id}?sos={alert_id}"
    call_page = client.get(resp.headers["location"], headers={"accept": "text/html"}).text
    assert f'data-sos="{alert_id}"' in call_page
    timeline = client.get(f"/api/sos/alerts/{alert_id}", headers=bearer(client, world.admin.email))
    assert "call_started" in str(timeline.json())

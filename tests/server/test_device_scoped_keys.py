"""Idempotency keys belong to the box that sent them: the same key from two homes is two
messages (two SOS, two dose answers), while a resend from the same box is recognised."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol import (
    Ack,
    BoxSettings,
    DoseAnswer,
    DoseOutcome,
    Lang,
    SosAlertPush,
    SosRaise,
    SosSource,
)
from server.core.config import Settings
from server.models import DoseRecord, Elder, EmergencyContact, SosAlert
from server.runtime import Runtime
from server.sos.delivery import deliver_pending
from tests.conftest import bearer
from tests.server.test_reminders_sweep import add_plan
from tests.server.test_sos import box_hello, next_of, page_hello
from tests.support.sockets import recv, send
from tests.support.world import World, make_device

SHARED_KEY = "sensor-fall-0001"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """No scheduler: escalation is driven by hand with the test's own clock."""
    return Settings(database_url=db_url, data_dir=tmp_path / "data", scheduler_enabled=False)


@pytest.fixture
def boxes(rt: Runtime, world: World) -> dict[str, tuple[str, int]]:
    """One paired box in each home: {"a": (token, device id), "b": (token, device id)}."""
    with rt.db.session() as db:
        db.add(EmergencyContact(elder_id=world.elder_b.id, position=1, name="Tom", phone="139-B"))
        return {"a": make_device(db, world.elder_a), "b": make_device(db, world.elder_b)}


def sensor_event(client: TestClient, token: str, key: str = SHARED_KEY) -> dict[str, Any]:
    resp = client.post(
        "/api/box/sensor-events",
        json={"key": key, "kind": "fall"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def alerts_of(rt: Runtime) -> list[tuple[int, int, int | None]]:
    """(alert id, elder id, device id) of every stored alert."""
    with rt.db.session() as db:
        rows = db.execute(
            select(SosAlert.id, SosAlert.elder_id, SosAlert.device_id).order_by(SosAlert.id)
        ).all()
    return [(i, e, d) for i, e, d in rows]


def ack_of(ws: Any) -> Ack:
    reply = recv(ws)
    while not isinstance(reply, Ack):
        reply = recv(ws)
    return reply


def test_two_homes_sensors_with_the_same_key_each_get_their_own_alert(
    client: TestClient, world: World, rt: Runtime, boxes: dict[str, tuple[str, int]]
) -> None:
    (token_a, device_a), (token_b, device_b) = boxes["a"], boxes["b"]
    with (
        client.websocket_connect("/ws/web") as board_a,
        client.websocket_connect("/ws/web") as board_b,
    ):
        page_hello(board_a, client, world.operator_a.email)
        page_hello(board_b, client, world.operator_b.email)
        first = sensor_event(client, token_a)
        second = sensor_event(client, token_b)
        assert first["duplicate"] is False and second["duplicate"] is False
        assert first["alert_id"] != second["alert_id"], "home B's fall is its own alert"
        pushed_a = next_of(board_a, SosAlertPush)
        pushed_b = next_of(board_b, SosAlertPush)
    assert (pushed_a.alert_id, pushed_a.elder_id) == (first["alert_id"], world.elder_a.id)  # type: ignore[attr-defined]
    assert (pushed_b.alert_id, pushed_b.elder_id) == (second["alert_id"], world.elder_b.id)  # type: ignore[attr-defined]
    assert alerts_of(rt) == [
        (first["alert_id"], world.elder_a.id, device_a),
        (second["alert_id"], world.elder_b.id, device_b),
    ]
    # Each family and each area's operator sees its own elder's alert, and only that one.
    for who, alert_id in (
        ("family_a", first["alert_id"]),
        ("operator_a", first["alert_id"]),
        ("family_b", second["alert_id"]),
        ("operator_b", second["alert_id"]),
    ):
        listed = client.get("/api/sos/alerts", headers=bearer(client, world.user(who).email))
        assert [a["id"] for a in listed.json()] == [alert_id], who
    # Home B's sensor resends (its ack was lost): a duplicate, answered with home B's alert.
    assert sensor_event(client, token_b) == {"alert_id": second["alert_id"], "duplicate": True}
    assert sensor_event(client, token_a) == {"alert_id": first["alert_id"], "duplicate": True}
    assert len(alerts_of(rt)) == 2
    # Nobody acknowledges: each alert escalates to its own elder's first contact.
    with rt.db.session() as db:
        stored = max(a.stored_at for a in db.scalars(select(SosAlert)))
    deliver_pending(rt, lambda: stored + timedelta(seconds=rt.settings.sos_escalation_seconds + 3))
    texted = {phone for phone, _ in rt.texts.sent}  # type: ignore[attr-defined]
    assert {"138", "139-B"} <= texted, "both homes' contacts are called"


def test_two_boxes_raising_the_same_key_on_the_socket_each_get_their_own_alert(
    client: TestClient, world: World, rt: Runtime, boxes: dict[str, tuple[str, int]]
) -> None:
    raised = SosRaise(key="sos-key-0001", source=SosSource.RED_KEY, id="r1")
    with (
        client.websocket_connect("/ws/box") as box_a,
        client.websocket_connect("/ws/box") as box_b,
    ):
        box_hello(box_a, boxes["a"][0])
        box_hello(box_b, boxes["b"][0])
        send(box_a, raised)
        assert not ack_of(box_a).duplicate
        send(box_b, raised)
        assert not ack_of(box_b).duplicate, "box B's SOS is not box A's resend"
        send(box_b, raised)
        assert ack_of(box_b).duplicate, "box B's own resend is recognised"
    assert [(elder, device) for _, elder, device in alerts_of(rt)] == [
        (world.elder_a.id, boxes["a"][1]),
        (world.elder_b.id, boxes["b"][1]),
    ]


def test_one_key_racing_in_from_one_box_and_another_home_at_once(
    client: TestClient, world: World, rt: Runtime, boxes: dict[str, tuple[str, int]]
) -> None:
    """Box A: two HTTP retries and its socket at once; box B: the same key, also at once."""
    (token_a, device_a), (token_b, device_b) = boxes["a"], boxes["b"]
    start = threading.Barrier(4)
    http: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    acks: list[Ack] = []

    def post(home: str, token: str) -> None:
        start.wait(timeout=30)
        http[home].append(sensor_event(client, token))

    def socket() -> None:
        with client.websocket_connect("/ws/box") as ws:
            box_hello(ws, token_a)
            start.wait(timeout=30)
            send(ws, SosRaise(key=SHARED_KEY, source=SosSource.SENSOR, id="s1"))
            acks.append(ack_of(ws))

    threads = [
        threading.Thread(target=post, args=("a", token_a)),
        threading.Thread(target=post, args=("a", token_a)),
        threading.Thread(target=post, args=("b", token_b)),
        threading.Thread(target=socket),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stored = alerts_of(rt)
    assert [(elder, device) for _, elder, device in stored] == [
        (world.elder_a.id, device_a),
        (world.elder_b.id, device_b),
    ] or [(elder, device) for _, elder, device in stored] == [
        (world.elder_b.id, device_b),
        (world.elder_a.id, device_a),
    ]
    alert_a = next(i for i, _, device in stored if device == device_a)
    alert_b = next(i for i, _, device in stored if device == device_b)
    assert [r["alert_id"] for r in http["a"]] == [alert_a, alert_a], "retries point to A's alert"
    assert http["b"] == [{"alert_id": alert_b, "duplicate": False}]
    assert len(acks) == 1 and acks[0].key == SHARED_KEY
    created_a = [not r["duplicate"] for r in http["a"]] + [not acks[0].duplicate]
    assert created_a.count(True) == 1, "box A's SOS is stored once, whichever arrived first"


def dose_answer(plan_id: int, key: str) -> DoseAnswer:
    return DoseAnswer(
        key=key,
        plan_id=plan_id,
        scheduled_local=datetime(2026, 11, 22, 8, 0),
        scheduled_at=datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
        outcome=DoseOutcome.TAKEN,
    )


def test_dose_answers_with_the_same_key_from_two_homes_are_each_stored(
    client: TestClient, world: World, rt: Runtime, boxes: dict[str, tuple[str, int]]
) -> None:
    since = datetime.now(UTC) - timedelta(days=1)
    plan_a = add_plan(rt, world.elder_a.id, (time(8, 0),), since)
    plan_b = add_plan(rt, world.elder_b.id, (time(8, 0),), since)
    with (
        client.websocket_connect("/ws/box") as box_a,
        client.websocket_connect("/ws/box") as box_b,
    ):
        box_hello(box_a, boxes["a"][0])
        box_hello(box_b, boxes["b"][0])
        send(box_a, dose_answer(plan_a, "dose-answer-0001"))
        assert not ack_of(box_a).duplicate
        send(box_b, dose_answer(plan_b, "dose-answer-0001"))
        assert not ack_of(box_b).duplicate, "home B's answer is not home A's resend"
        send(box_b, dose_answer(plan_b, "dose-answer-0001"))
        assert ack_of(box_b).duplicate, "home B's own resend is recognised"
    with rt.db.session() as db:
        rows = db.execute(
            select(DoseRecord.plan_id, DoseRecord.outcome, DoseRecord.device_id).order_by(
                DoseRecord.plan_id
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (plan_a, DoseOutcome.TAKEN, boxes["a"][1]),
        (plan_b, DoseOutcome.TAKEN, boxes["b"][1]),
    ]
    taken_b = client.get(
        f"/api/elders/{world.elder_b.id}/audit", headers=bearer(client, world.admin.email)
    ).json()
    assert [a["action"] for a in taken_b].count("medication.dose.taken") == 1


def test_box_settings_with_the_same_key_from_two_homes_are_each_applied(
    client: TestClient, world: World, rt: Runtime, boxes: dict[str, tuple[str, int]]
) -> None:
    with (
        client.websocket_connect("/ws/box") as box_a,
        client.websocket_connect("/ws/box") as box_b,
    ):
        box_hello(box_a, boxes["a"][0])
        box_hello(box_b, boxes["b"][0])
        send(box_a, BoxSettings(key="settings-0001-abcdef", lang=Lang.EN, id="o1"))
        assert not ack_of(box_a).duplicate
        send(box_b, BoxSettings(key="settings-0001-abcdef", lang=Lang.ZH, id="o1"))
        assert not ack_of(box_b).duplicate
    with rt.db.session() as db:
        langs = [db.get(Elder, e.id).lang for e in (world.elder_a, world.elder_b)]  # type: ignore[union-attr]
    assert langs == ["en", "zh"], "home B's elder got the language home B chose"

"""Box presence at scale: coalesced online/offline pushes, last seen kept in memory and
written in batches, and SOS pushes never held back by either."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from starlette.testclient import WebSocketTestSession

from protocol import (
    Ack,
    Changed,
    ClientKind,
    Heartbeat,
    Hello,
    MedPlans,
    SosAlertPush,
    SosRaise,
    SosSource,
    Topic,
    Welcome,
)
from server.app import flush_last_seen
from server.core.security import new_token, token_hash
from server.models import Device, User, utcnow
from server.permissions import can_see_elder, users_who_see_elder, users_who_see_elders
from server.runtime import Runtime
from tests.server.test_box_socket import recv, send
from tests.server.test_web_socket import token_of
from tests.support.world import World


def add_boxes(rt: Runtime, elder_id: int, count: int) -> list[tuple[str, int]]:
    """Paired boxes of one elder, straight into the database: (token, device id)."""
    tokens = [new_token() for _ in range(count)]
    with rt.db.session() as db:
        devices = [Device(elder_id=elder_id, token_hash=token_hash(t)) for t in tokens]
        db.add_all(devices)
        db.flush()
        return [(t, d.id) for t, d in zip(tokens, devices, strict=True)]


def open_page(client: TestClient, stack: ExitStack, email: str) -> WebSocketTestSession:
    page = stack.enter_context(client.websocket_connect("/ws/web"))
    send(page, Hello(client=ClientKind.WEB, token=token_of(client, email)))
    assert isinstance(recv(page), Welcome)
    return page


def open_box(client: TestClient, stack: ExitStack, token: str) -> WebSocketTestSession:
    box = stack.enter_context(client.websocket_connect("/ws/box"))
    send(box, Hello(client=ClientKind.BOX, device_token=token))
    assert isinstance(recv(box), Welcome)
    assert isinstance(recv(box), MedPlans)  # the state sent on connect
    return box


def device_states(message: object) -> dict[int, bool]:
    assert isinstance(message, Changed) and message.topic is Topic.DEVICE, message
    return {d["device_id"]: d["online"] for d in message.data["devices"]}


def stored_last_seen(rt: Runtime, device_id: int) -> object:
    with rt.db.session() as db:
        return db.scalar(select(Device.last_seen_at).where(Device.id == device_id))


def test_many_boxes_connecting_reach_a_page_as_one_coalesced_update(
    client: TestClient, rt: Runtime, world: World
) -> None:
    rt.presence.push_seconds = 2.0
    boxes = add_boxes(rt, world.elder_a.id, 12)
    with ExitStack() as stack:
        page = open_page(client, stack, world.family_a.email)
        other_family = open_page(client, stack, world.family_b.email)
        for token, _ in boxes:
            open_box(client, stack, token)
        seen: dict[int, bool] = {}
        pushes = 0
        while len(seen) < len(boxes) and pushes < len(boxes):
            seen |= device_states(recv(page))
            pushes += 1
        assert seen == {device_id: True for _, device_id in boxes}
        # The first connect is told at once; the other eleven wait out the interval together.
        assert pushes <= 2, f"{pushes} pushes for {len(boxes)} boxes"
        # Another family's page heard nothing: its next frame answers its own heartbeat.
        send(other_family, Heartbeat(id="probe"))
        answer = recv(other_family)
        assert isinstance(answer, Heartbeat) and answer.id == "probe"


def test_a_known_box_saying_hello_and_beating_writes_nothing(
    client: TestClient, rt: Runtime, world: World
) -> None:
    [(token, _)] = add_boxes(rt, world.elder_a.id, 1)
    writes: list[str] = []

    def record(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", record)
    try:
        with ExitStack() as stack:
            box = open_box(client, stack, token)
            for n in range(3):
                send(box, Heartbeat(id=f"beat-{n}"))
                assert recv(box).id == f"beat-{n}"
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", record)
    # Last seen is written later, in a batch (the offline push does it for this box).
    assert [w for w in writes if "last_seen_at" not in w] == []
    assert len(writes) <= 1


def test_heartbeats_stay_in_memory_and_pages_still_show_the_last_seen_time(
    client: TestClient, rt: Runtime, world: World
) -> None:
    family = {"Authorization": f"Bearer {token_of(client, world.family_a.email)}"}
    [(token, device_id)] = add_boxes(rt, world.elder_a.id, 1)
    before = utcnow()
    with ExitStack() as stack:
        box = open_box(client, stack, token)
        send(box, Heartbeat(id="beat"))
        assert recv(box).id == "beat"
        assert stored_last_seen(rt, device_id) is None, "no database write per heartbeat"
        listed = client.get(f"/api/elders/{world.elder_a.id}/devices", headers=family).json()
        [row] = [d for d in listed if d["id"] == device_id]
        assert row["online"] is True
        assert row["last_seen_at"] is not None
        assert before <= _parse(row["last_seen_at"]) <= utcnow()
        # The periodic flush writes it.
        flush_last_seen(rt)
        stored = stored_last_seen(rt, device_id)
        assert isinstance(stored, datetime) and stored >= before


def test_last_seen_is_stored_before_the_page_hears_the_box_went_offline(
    client: TestClient, rt: Runtime, world: World
) -> None:
    [(token, device_id)] = add_boxes(rt, world.elder_a.id, 1)
    before = utcnow()
    with ExitStack() as pages:
        page = open_page(client, pages, world.family_a.email)
        with ExitStack() as boxes:
            box = open_box(client, boxes, token)
            assert device_states(recv(page)) == {device_id: True}
            send(box, Heartbeat(id="beat"))
            assert recv(box).id == "beat"
            assert stored_last_seen(rt, device_id) is None
        assert device_states(recv(page)) == {device_id: False}
        stored = stored_last_seen(rt, device_id)
        assert isinstance(stored, datetime) and before <= stored <= utcnow()
        listed = client.get(
            f"/api/elders/{world.elder_a.id}/devices",
            headers={"Authorization": f"Bearer {token_of(client, world.family_a.email)}"},
        ).json()
        [row] = [d for d in listed if d["id"] == device_id]
        assert row["online"] is False and _parse(row["last_seen_at"]) == stored


def test_sos_push_is_not_held_back_by_a_pending_presence_push(
    client: TestClient, rt: Runtime, world: World
) -> None:
    rt.presence.push_seconds = 4.0
    (first, first_id), (_, second_id) = boxes = add_boxes(rt, world.elder_a.id, 2)
    with ExitStack() as stack:
        page = open_page(client, stack, world.family_a.email)
        box = open_box(client, stack, first)
        assert device_states(recv(page)) == {first_id: True}  # the first change: at once
        open_box(client, stack, boxes[1][0])  # this one waits out the interval
        sent = utcnow()
        send(box, SosRaise(key="presence-sos-1", source=SosSource.RED_KEY))
        assert isinstance(recv(box), Ack)
        alert = recv(page)
        assert isinstance(alert, SosAlertPush), f"the SOS came after {alert}"
        assert utcnow() - sent < timedelta(seconds=2)
        following = recv(page)
        while isinstance(following, Changed) and following.topic is Topic.SOS:
            following = recv(page)
        assert device_states(following) == {second_id: True}


def test_audiences_of_many_elders_follow_who_may_see_each(rt: Runtime, world: World) -> None:
    with rt.db.session() as db:
        together = users_who_see_elders(db, [world.elder_a.id, world.elder_b.id, 10_000])
        assert 10_000 not in together
        users = db.scalars(select(User)).all()
        for elder in (world.elder_a, world.elder_b):
            expected = {u.id for u in users if u.is_active and can_see_elder(db, u, elder.id)}
            assert together[elder.id] == expected == users_who_see_elder(db, elder)
        assert world.family_a.id in together[world.elder_a.id]
        assert world.family_a.id not in together[world.elder_b.id]


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))

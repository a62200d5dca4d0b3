"""Ids out of range are refused at the edge (422 JSON) on every route that takes one, never a 500,
and with an `error` message on a socket that stays open.

The routes and message types are read from the app and the protocol themselves (API and page
routes; path, query, JSON-body, form and message ids), so one added later is probed too.
"""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from protocol import (
    MESSAGE_TYPES,
    CallHangUp,
    CallJoin,
    ClientKind,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    Welcome,
    dump_message,
)
from server.api.deps import SESSION_COOKIE
from server.core.security import csrf_token
from server.ids import MAX_ROW_ID
from tests.conftest import bearer
from tests.server.meals_world import make_meal_point
from tests.server.test_box_socket import recv, send
from tests.support.live_server import LiveServer
from tests.support.world import PASSWORD, World, make_device

# Past SQLite's int64 (the OverflowError of issue #11), past PostgreSQL's int4 columns, and below 1.
OUT_OF_RANGE = [2**63, 2**63 - 1, MAX_ROW_ID + 1, 0, -1]
# Forms the page handlers read by hand (request.form()), so their fields are not in the route's
# signature; every other id is found in the signatures.
HAND_READ_FORMS = {
    ("POST", "/family/medicines"): ["elder_id", "plan_id"],
    ("POST", "/meals/elders/{elder_id}/order"): ["dish"],
    ("POST", "/meals/elders/{elder_id}/point"): ["point"],
}


@dataclass(frozen=True)
class IdSlot:
    """One place a route takes an id: path, query, json or form, and the field's name."""

    method: str
    path: str
    where: str
    name: str


def _body_slots(route: APIRoute) -> list[tuple[str, str]]:
    slots = []
    for param in route.dependant.body_params:
        kind = type(param.field_info).__name__
        annotation = param.field_info.annotation
        if kind == "Form" and param.name.endswith("_id"):
            slots.append(("form", param.name))
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            slots += [("json", n) for n in annotation.model_fields if n.endswith("_id")]
        else:  # `Model | None`
            for arg in getattr(annotation, "__args__", ()):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    slots += [("json", n) for n in arg.model_fields if n.endswith("_id")]
    return slots


def id_slots(app: Any) -> list[IdSlot]:
    """Every id every route of ``app`` takes, in the schema or not."""
    out = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(context.methods or ()):
            path = context.path
            names = [("path", n) for n in re.findall(r"{(\w+)}", path)]
            names += [("query", p.name) for p in route.dependant.query_params]
            names += _body_slots(route)
            names += [("form", n) for n in HAND_READ_FORMS.get((method, path), [])]
            out += [IdSlot(method, path, w, n) for w, n in names if n.endswith("_id")]
    return out


def _send(client: TestClient, slot: IdSlot, value: int, csrf: str, valid_id: int) -> Any:
    """The request with ``value`` in the slot and a real id everywhere else."""
    path = re.sub(
        r"{(\w+)}",
        lambda m: str(value if (slot.where, m[1]) == ("path", slot.name) else valid_id),
        slot.path,
    )
    kwargs: dict[str, Any] = {}
    if slot.where == "query":
        kwargs["params"] = {slot.name: value}
    elif slot.where == "json":
        kwargs["json"] = {slot.name: value}
    elif slot.where == "form" or not path.startswith("/api"):
        form = {"csrf": csrf, "elder_id": str(valid_id)}
        kwargs["data"] = form | ({slot.name: str(value)} if slot.where == "form" else {})
    return client.request(slot.method, path, follow_redirects=False, **kwargs)


# Routes for administrators (and operators): probed as the administrator.
ADMIN_PATHS = ("/admin", "/api/admin", "/elders", "/api/elders/import", "/api/elders/export")
ADMIN_OPS = {("POST", "/api/elders")}
# The doctor's pages (the clinic's elders and their records): probed as a doctor.
DOCTOR_PATHS = ("/doctor", "/clinic")
# The meal point's page (its meal staff) and the care centre's meals page (operators).
MEAL_STAFF_PATHS = ("/meals/kitchen",)
OPERATOR_PATHS = ("/meals/area",)
# The box's routes (its device token, not a person's): probed as elder A's paired box.
BOX_PATHS = ("/api/box/",)


def _identity(client: TestClient, email: str) -> tuple[str, dict[str, str], str]:
    """(page session cookie, API bearer header, the session's CSRF token) of ``email``."""
    client.cookies.clear()
    client.post("/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    session = client.cookies.get(SESSION_COOKIE) or ""
    csrf = csrf_token(client.app.state.rt.settings.secret_key, session)  # type: ignore[attr-defined]
    return session, bearer(client, email), csrf


def test_every_id_taking_route_refuses_ids_out_of_range(client: TestClient, world: World) -> None:
    slots = id_slots(client.app)
    api_ops = {(s.method, s.path) for s in slots if s.path.startswith("/api")}
    assert len(api_ops) >= 26, "the routes must be read from the app (26 API operations in #11)"
    assert {s.where for s in slots} >= {"path", "json", "form"}
    # Page routes check the form (and everyone their role) before parsing ids: each route is
    # probed as someone who may use it, the family, a doctor or an administrator.
    family = _identity(client, world.family_a.email)
    doctor = _identity(client, world.doctor_a.email)
    admin = _identity(client, world.admin.email)
    with client.app.state.rt.db.session() as db:  # type: ignore[attr-defined]
        box_token, _ = make_device(db, db.merge(world.elder_a))
        cook = make_meal_point(db, world.area_a.id).staff
        db.commit()
        cook_email = cook.email
    meal_staff = _identity(client, cook_email)
    operator = _identity(client, world.operator_a.email)
    box = ("", {"authorization": f"Bearer {box_token}"}, "")
    failures = []
    for slot in slots:
        as_admin = slot.path.startswith(ADMIN_PATHS) or (slot.method, slot.path) in ADMIN_OPS
        as_doctor = slot.path.startswith(DOCTOR_PATHS)
        as_box = slot.path.startswith(BOX_PATHS)
        session, auth, csrf = (
            box
            if as_box
            else admin
            if as_admin
            else doctor
            if as_doctor
            else meal_staff
            if slot.path.startswith(MEAL_STAFF_PATHS)
            else operator
            if slot.path.startswith(OPERATOR_PATHS)
            else family
        )
        client.cookies.set(SESSION_COOKIE, session)
        client.headers.update(auth)
        for value in OUT_OF_RANGE:
            resp = _send(client, slot, value, csrf, world.elder_a.id)
            if resp.status_code != 422:
                failures.append(f"{slot} = {value}: {resp.status_code} {resp.text[:80]}")
                continue
            if resp.headers["content-type"].startswith("application/json"):
                body = resp.json()
                where = {"json": "body", "form": "body"}.get(slot.where, slot.where)
                # A hand-read form names no field: the page shows one message.
                named = [e for e in body.get("errors", []) if e["loc"][:1] == [where]]
                hand_read = (slot.method, slot.path) in HAND_READ_FORMS
                named_it = hand_read or any(slot.name in e["loc"] for e in named)
                if body["code"] != "invalid" or not named_it:
                    failures.append(f"{slot} = {value}: refused, but not for the id: {body}")
        # The largest id accepted reaches the database on SQLite and PostgreSQL alike.
        resp = _send(client, slot, MAX_ROW_ID, csrf, world.elder_a.id)
        if resp.status_code >= 500:
            failures.append(f"{slot} = MAX_ROW_ID: {resp.status_code}")
    assert failures == []


def test_openapi_declares_the_id_bound(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    params = [
        p
        for item in doc["paths"].values()
        for op in item.values()
        for p in op.get("parameters", [])
        if p["name"].endswith("_id")
    ]
    assert params, "the API has id parameters"
    for param in params:
        schema = param["schema"]
        # An optional filter (``area_id: RowId | None``) is an integer or nothing.
        schema = next((s for s in schema.get("anyOf", []) if s.get("type") == "integer"), schema)
        assert schema["minimum"] == 1 and schema["maximum"] == MAX_ROW_ID, param
    claim = doc["components"]["schemas"]["PairingClaimCreate"]["properties"]["elder_id"]
    assert (claim["minimum"], claim["maximum"]) == (1, MAX_ROW_ID)


def _http(sock: socket.socket, request: str) -> bytes:
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"the server closed the connection after {head!r}")
        head += chunk
    headers, _, body = head.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", headers)[1])  # type: ignore[index]
    while len(body) < length:
        body += sock.recv(4096)
    return headers.split(b"\r\n")[0]


@pytest.mark.e2e
def test_keep_alive_connection_survives_a_huge_id(live_server: LiveServer, seeded: World) -> None:
    token = live_server.login(seeded.family_a.email, PASSWORD).headers["Authorization"]
    host = f"127.0.0.1:{live_server.port}"
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        huge = f"GET /api/elders/{2**63} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n\r\n"
        assert _http(sock, huge).startswith(b"HTTP/1.1 422 ")
        # The same connection answers the next request (it was reset after the 500 before).
        again = f"GET /api/elders/{seeded.elder_a.id} HTTP/1.1\r\nHost: {host}\r\n"
        assert _http(sock, again + f"Authorization: {token}\r\n\r\n").startswith(b"HTTP/1.1 200 ")


def test_every_message_type_refuses_ids_out_of_range() -> None:
    checked = 0
    for model in MESSAGE_TYPES:
        names = [n for n in model.model_fields if n.endswith("_id")]
        for name, value in ((n, v) for n in names for v in OUT_OF_RANGE):
            with pytest.raises(ValidationError) as caught:
                model.model_validate({name: value})
            assert any(e["loc"] == (name,) for e in caught.value.errors()), (model, name)
            checked += 1
    assert checked >= 15 * len(OUT_OF_RANGE), "the message types must be read from the protocol"


@pytest.mark.parametrize("message", [CallJoin(call_id=1), CallHangUp(call_id=1)])
def test_socket_answers_an_id_out_of_range_with_an_error_and_stays_open(
    client: TestClient, world: World, message: Any
) -> None:
    token = bearer(client, world.doctor_a.email)["Authorization"].split()[1]
    with client.websocket_connect("/ws/web") as ws:
        send(ws, Hello(client=ClientKind.WEB, token=token))
        assert isinstance(recv(ws), Welcome)
        for value in (2**63, MAX_ROW_ID + 1):
            frame = json.loads(dump_message(message)) | {"call_id": value, "id": "probe"}
            ws.send_text(json.dumps(frame))
            answer = recv(ws)
            # Before: the handler's query failed, and the socket said "internal" (logged as ERROR).
            assert isinstance(answer, Error) and answer.code is ErrorCode.INVALID, answer
            assert "call_id" in answer.message and answer.ref == "probe"
        send(ws, Heartbeat(id="still-open"))
        answer = recv(ws)
        assert isinstance(answer, Heartbeat) and answer.id == "still-open"

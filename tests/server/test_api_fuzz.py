"""Schemathesis over /openapi.json as each role: no 5xx; every answer is one the document declares.

Each role fuzzes every operation of the real ASGI app (lifespan running) over a world where the
ids exist: an elder on each side, a paired box, a medication plan, an SOS alert and a call. Half
the cases aim their path ids at those rows, so answers with bodies (200s) are checked too, not
only 404s. Checks: no server error; the status code, content type, headers and body schema are
the declared ones. Positive and negative cases, a fixed number per operation, derandomized, so a
run is reproducible and takes a bounded time (about 20 s per role on a 2-core machine).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from protocol import CallKind
from server.models import Call, CallStatus, ServicePoint, ServicePointKind
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.routes import api_operations
from tests.support.world import World, make_device, make_world

ROLES = ["anonymous", "family_a", "doctor_a", "operator_a", "admin", "box"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Cases per operation and role: 37 operations × 6 roles take about a minute per database.
EXAMPLES_PER_OPERATION = 25
# Logging out ends the role's own session, and every later case would only see 401s.
SKIPPED_FOR_ROLES = {("POST", "/api/auth/logout")}


def _fuzz_world(rt: Runtime, client: TestClient) -> tuple[World, str, dict[str, list[int]]]:
    """The world, a paired box's token, and the ids of real rows by path-parameter name."""
    with rt.db.session() as db:
        world = make_world(db)
        token, device_id = make_device(db, world.elder_a)
        call = Call(
            kind=CallKind.CONSULT,
            status=CallStatus.ENDED,
            elder_id=world.elder_a.id,
            device_id=device_id,
            clinic_id=world.clinic_a.id,
            user_id=world.doctor_a.id,
        )
        db.add(call)
        point = ServicePoint(kind=ServicePointKind.MEAL_POINT, name="Fuzz meals")
        db.add(point)
        db.flush()
        call_id = call.id
        point_id = point.id
    family = bearer(client, world.family_a.email)
    plan = client.post(
        f"/api/elders/{world.elder_a.id}/medication-plans",
        headers=family,
        json={
            "medicine": "Metformin",
            "schedule": {"times": ["08:00"], "start_date": "2026-01-01"},
        },
    )
    assert plan.status_code == 201, plan.text
    alert = client.post(
        "/api/box/sensor-events",
        headers={"Authorization": f"Bearer {token}"},
        json={"key": "fuzz-world-1", "kind": "fall"},
    )
    assert alert.status_code == 201, alert.text
    known = {
        "elder_id": [world.elder_a.id, world.elder_b.id],
        "device_id": [device_id],
        "plan_id": [plan.json()["id"]],
        "alert_id": [alert.json()["alert_id"]],
        "call_id": [call_id],
        "area_id": [world.area_a.id],
        "clinic_id": [world.clinic_a.id],
        "point_id": [point_id],
        "user_id": [world.operator_b.id, world.doctor_b.id],
    }
    return world, token, known


def _send(client: TestClient, kwargs: dict[str, Any], auth: dict[str, str]) -> Any:
    """Send what schemathesis built (requests-style keywords) through the app's own client."""
    headers = {**kwargs.get("headers", {}), **auth}
    if kwargs.get("cookies"):
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
    content = kwargs.get("data")
    extra: dict[str, Any] = {"json": kwargs["json"]} if "json" in kwargs else {}
    if content is not None:
        extra["content"] = content if isinstance(content, bytes) else str(content).encode()
    return client.request(
        kwargs["method"], kwargs["url"], headers=headers, params=kwargs.get("params"), **extra
    )


def _fuzz_operation(
    operation: Any, run_case: Callable[[Any, dict[str, int]], None], known: dict[str, list[int]]
) -> None:
    names = [p.name for p in operation.path_parameters]
    real_ids = st.fixed_dictionaries({n: st.sampled_from(known[n]) for n in names if n in known})
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, ids=st.one_of(st.just({}), real_ids))
    def fuzz(case: Any, ids: dict[str, int]) -> None:
        run_case(case, ids)

    fuzz()


@pytest.mark.parametrize("role", ROLES)
def test_fuzzed_api_answers_as_documented(client: TestClient, rt: Runtime, role: str) -> None:
    world, box_token, known = _fuzz_world(rt, client)
    if role == "anonymous":
        auth: dict[str, str] = {}
    elif role == "box":
        auth = {"Authorization": f"Bearer {box_token}"}
    else:
        auth = bearer(client, world.user(role).email)
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    failures: dict[str, str] = {}
    sent = 0

    def run_case(case: Any, ids: dict[str, int]) -> None:
        nonlocal sent
        label = f"{case.method} {case.path}"
        if label in failures:
            return  # one failure per operation is enough to report
        if ids and case.path_parameters is not None:
            case.path_parameters = {**case.path_parameters, **ids}
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        response = _send(client, kwargs, auth)
        sent += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as err:  # a BaseException: the checks that failed, with the reason
            failures[label] = f"{kwargs['method']} {kwargs['url']} -> {response.status_code}: {err}"

    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        if role != "anonymous" and (operation.method.upper(), operation.path) in SKIPPED_FOR_ROLES:
            continue
        _fuzz_operation(operation, run_case, known)
    elapsed = time.monotonic() - started
    print(f"fuzz {role}: {len(operations)} operations, {sent} requests, {elapsed:.1f} s")
    assert failures == {}, "\n\n".join(failures.values())
    assert len(operations) == len(api_operations(client.app)), "every operation is fuzzed"
    assert sent >= EXAMPLES_PER_OPERATION * (len(operations) - 1) // 2

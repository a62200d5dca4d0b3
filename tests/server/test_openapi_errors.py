"""The OpenAPI document tells the truth about errors, and every error body carries a code.

Each operation declares the answers it can give: 401 when it needs a log-in or a box token,
404 and 422 when it takes an id, 400 and 422 when it takes a body; every error answer is the one
body shape (`ErrorOut`, or `InvalidOut` for 422). The framework's own errors (unknown path,
wrong method, a body that cannot be parsed) carry a ``code`` like every other.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from server.api.deps import get_current_device, get_current_user
from server.api.responses import ErrorOut, InvalidOut


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _operations(app: Any) -> Iterator[tuple[APIRoute, str, str]]:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(context.methods or ()):
                yield route, method.lower(), context.path


def _ref(response: dict[str, Any]) -> str:
    return str(response["content"]["application/json"]["schema"]["$ref"]).rsplit("/", 1)[-1]


def test_every_operation_declares_its_errors(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    missing = []
    checked = 0
    for route, method, path in _operations(client.app):
        op = doc["paths"][path][method]
        declared = set(op["responses"])
        needed = set()
        if {get_current_user, get_current_device} & set(_calls(route.dependant)):
            needed.add("401")
        if "{" in path:
            needed |= {"404", "422"}
        if "requestBody" in op:
            needed |= {"400", "422"}
        if needed - declared:
            missing.append(f"{method.upper()} {path} lacks {sorted(needed - declared)}")
        for status, response in op["responses"].items():
            if path.startswith("/fhir/") and status.startswith(("4", "5")):
                # FHIR speaks its own errors: an OperationOutcome (tests/server/
                # test_appointments_fhir.py checks the bodies).
                if "application/fhir+json" not in response.get("content", {}):
                    missing.append(f"{method.upper()} {path} {status} is not FHIR")
                continue
            if status.startswith("4"):
                expected = "InvalidOut" if status == "422" else "ErrorOut"
                if _ref(response) != expected:
                    missing.append(f"{method.upper()} {path} {status} is not {expected}")
        checked += 1
    assert checked >= 37
    assert missing == []
    # FastAPI's own 422 shape ({"detail": [...]}) is never what the server sends.
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert "method_not_allowed" in doc["components"]["schemas"]["ErrorCode"]["enum"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/api/no-such-thing", {}, 404, "not_found"),
        ("DELETE", "/api/elders", {}, 405, "method_not_allowed"),
        (
            "POST",
            "/api/pairing/requests",
            {"content": b"\xff\xfe{", "headers": {"content-type": "application/json"}},
            400,
            "malformed",
        ),
        (
            "POST",
            "/api/auth/login",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            422,
            "invalid",
        ),
    ],
)
def test_framework_errors_carry_a_code(
    client: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    resp = client.request(method, path, **kwargs)
    assert resp.status_code == status
    body = (InvalidOut if status == 422 else ErrorOut).model_validate(resp.json())
    assert body.code == code and body.detail

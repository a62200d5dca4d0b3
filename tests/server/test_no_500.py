"""No input produces a 500: every API route gets hostile paths, bodies and headers."""

from __future__ import annotations

import itertools
import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer
from tests.server.routes import api_operations
from tests.support.world import World

NASTY_IDS = ["0", "-1", "999999999999999999999999", "abc", "1e9", "%00", "１", "²", str(2**63)]
NASTY_BODIES: list[object] = [
    None,
    {},
    [],
    "string",
    12,
    {"code": None, "elder_id": None},
    {"code": "1" * 10_000, "elder_id": 2**70},
    {"email": {"$ne": None}, "password": []},
    {"pairing_secret": "\u0000" * 20},
    {"lang": "xx", "timezone": "Mars/Olympus", "name": ""},
    {"timezone": "../../etc/passwd"},
    {"care_notes": "x" * 6000},
]


def concrete_paths(path: str) -> list[str]:
    names = [part for part in path.split("/") if part.startswith("{")]
    if not names:
        return [path]
    out = []
    for values in itertools.product(NASTY_IDS, repeat=len(names)):
        concrete = path
        for name, value in zip(names, values, strict=True):
            concrete = concrete.replace(name, value)
        out.append(concrete)
    return out


@pytest.mark.parametrize("as_user", [False, True])
def test_hostile_requests_get_4xx_never_5xx(
    client: TestClient, world: World, as_user: bool
) -> None:
    headers = bearer(client, world.family_a.email) if as_user else {}
    failures = []
    sent = 0
    for method, template in api_operations(client.app):
        if not template.startswith("/api"):
            continue
        for path in concrete_paths(template):
            for body in NASTY_BODIES:
                resp = client.request(
                    method,
                    path,
                    content=json.dumps(body),
                    headers={**headers, "content-type": "application/json"},
                )
                sent += 1
                if resp.status_code >= 500:
                    failures.append(f"{method} {path} {body!r:.60} -> {resp.status_code}")
                elif resp.status_code >= 400:
                    body = resp.json()
                    assert body.get("detail"), f"{method} {path}: 4xx without a message"
                    assert body.get("code"), f"{method} {path}: 4xx without a code"
    assert sent > 300, "the fuzz must reach every route"
    assert failures == []


def test_broken_auth_headers(client: TestClient) -> None:
    for value in [
        b"Bearer",
        b"Bearer ",
        b"Basic abc",
        "bearer éé".encode("latin-1"),
        b"Bearer " + b"x" * 5000,
    ]:
        resp = client.get("/api/elders", headers={"Authorization": value})
        assert resp.status_code == 401

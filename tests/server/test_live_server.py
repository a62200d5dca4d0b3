"""Behaviour only a real server process shows: writes are visible as soon as a response is."""

from __future__ import annotations

import httpx

from tests.support.live_server import LiveServer


def test_a_code_can_be_used_the_moment_it_is_handed_out(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        for _ in range(30):
            code = client.post("/api/pairing/requests", json={}).json()
            status = client.post(
                "/api/pairing/status", json={"pairing_secret": code["pairing_secret"]}
            )
            assert status.status_code == 200, "the request was answered before it was stored"
            assert status.json() == {"state": "waiting"}

"""Hostile HTTP: oversize bodies get 413 before they are read, and log-in floods are bounded.

Bodies are sent over raw sockets to a real server, so that "before it is read" is observable:
a 40 MB body that is never sent still gets its 413, and a chunked body is cut off soon after
the limit. Log-in floods: a limit per address across made-up e-mails, a limiter that
forgets rather than grows, and a queue of password checks that answers 503 when full.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select as sql_select

from server.app import create_app
from server.core.config import Settings
from server.errors import ServerBusy
from server.models import User
from server.password_checks import PasswordCheckGate
from server.runtime import Runtime
from tests.support.live_server import LiveServer
from tests.support.waiting import scaled
from tests.support.world import PASSWORD, World, make_world


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, object]]:
    sock.settimeout(scaled(10))
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.mark.parametrize("path", ["/api/auth/login", "/login"])
def test_declared_oversize_body_is_refused_before_it_is_sent(
    live_server: LiveServer, path: str
) -> None:
    with socket.create_connection(("127.0.0.1", live_server.port)) as sock:
        # Only the headers: an answer now proves the server never waited for the body.
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {40 * 2**20}\r\n\r\n".encode()
        )
        status, _, body = _read_response(sock)
    assert status == 413
    assert body["code"] == "too_large" and "larger than" in str(body["detail"])
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/api/auth/login", "application/json"), ("/login", "application/x-www-form-urlencoded")],
)
def test_chunked_oversize_body_is_cut_off_soon_after_the_limit(
    live_server: LiveServer, path: str, kind: str
) -> None:
    chunk = b"x" * 16384
    sent = 0
    with socket.create_connection(("127.0.0.1", live_server.port)) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {kind}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        answered = False
        while sent < 40 * 2**20 and not answered:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and hung up
            sent += len(chunk)
            answered = bool(select.select([sock], [], [], 0)[0])
        # The body never ends (no last chunk), so any answer at all came before its end; what
        # was sent beyond the limit sits in the kernel's socket buffers (a few MB on loopback).
        assert sent < 16 * 2**20, f"no answer after {sent} bytes"
        status, headers, body = _read_response(sock)
    assert status == 413 and body["code"] == "too_large"
    assert headers.get("connection") == "close"
    ok = httpx.post(f"{live_server.url}/api/auth/login", json={"email": "a@b.c", "password": "x"})
    assert ok.status_code == 401, "ordinary bodies are still read"


def _client(rt: Runtime, address: str = "203.0.113.7") -> TestClient:
    return TestClient(create_app(runtime=rt), client=(address, 50000))


@pytest.fixture
def strict_rt(settings: Settings) -> Iterator[Runtime]:
    """A runtime with small limits: 5 failures per address, 20 keys per limiter."""
    strict = settings.model_copy(
        update={"login_failures_per_minute_per_address": 5, "rate_limit_max_keys": 20}
    )
    runtime = Runtime.from_settings(strict)
    yield runtime
    runtime.db.dispose()


def _bad_login(client: TestClient) -> httpx.Response:
    email = f"{secrets.token_hex(4)}@nobody.example"
    return client.post("/api/auth/login", json={"email": email, "password": "guess"})


def test_one_address_trying_random_emails_is_limited(strict_rt: Runtime) -> None:
    with strict_rt.db.session() as db:
        world = make_world(db)
    with _client(strict_rt) as attacker, _client(strict_rt, "198.51.100.9") as neighbour:
        assert [_bad_login(attacker).status_code for _ in range(5)] == [401] * 5
        limited = _bad_login(attacker)
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        right = {"email": world.family_a.email, "password": PASSWORD}
        assert attacker.post("/api/auth/login", json=right).status_code == 429
        assert neighbour.post("/api/auth/login", json=right).status_code == 200, (
            "other addresses are not limited"
        )


def test_a_refused_login_is_answered_late_so_a_flood_slows_down(settings: Settings) -> None:
    slow = settings.model_copy(
        update={"login_failures_per_minute_per_address": 1, "login_refusal_delay_seconds": 0.5}
    )
    runtime = Runtime.from_settings(slow)
    try:
        with _client(runtime) as client:
            assert _bad_login(client).status_code == 401
            started = time.monotonic()
            assert _bad_login(client).status_code == 429
            assert time.monotonic() - started >= 0.5, "refused at once: the flood comes back"
    finally:
        runtime.db.dispose()


def test_limiter_memory_stays_bounded_under_random_emails(settings: Settings) -> None:
    roomy = settings.model_copy(
        update={"login_failures_per_minute_per_address": 10_000, "rate_limit_max_keys": 20}
    )
    runtime = Runtime.from_settings(roomy)
    try:
        with _client(runtime) as client:
            assert all(_bad_login(client).status_code == 401 for _ in range(60))
        # Before: every "address:e-mail" ever tried stayed in memory (60 here).
        assert len(runtime.login_limiter) == 20
        assert len(runtime.login_address_limiter) == 1
    finally:
        runtime.db.dispose()


def test_a_success_does_not_count_against_the_address(strict_rt: Runtime, world: World) -> None:
    right = {"email": world.family_a.email, "password": PASSWORD}
    with _client(strict_rt) as client:
        for _ in range(8):  # more than the 5 failures an address may have
            assert client.post("/api/auth/login", json=right).status_code == 200


def test_old_argon2_hashes_still_log_in_and_are_upgraded(client: TestClient, world: World) -> None:
    rt: Runtime = client.app.state.rt  # type: ignore[attr-defined]
    old = PasswordHasher().hash(PASSWORD)  # argon2-cffi defaults: 64 MiB, 3 passes, 4 lanes
    assert "m=65536" in old
    with rt.db.session() as db:
        db.get(User, world.family_a.id).password_hash = old  # type: ignore[union-attr]
    body = {"email": world.family_a.email, "password": PASSWORD}
    assert client.post("/api/auth/login", json=body).status_code == 200
    with rt.db.session() as db:
        stored = db.scalar(sql_select(User.password_hash).where(User.id == world.family_a.id))
    assert stored is not None and "m=19456,t=2,p=1" in stored
    assert client.post("/api/auth/login", json=body).status_code == 200


def test_password_check_gate_queues_then_refuses() -> None:
    started, release = threading.Event(), threading.Event()

    def slow_check() -> str:
        started.set()
        release.wait(scaled(10))
        return "checked"

    async def until(predicate: Callable[[], bool]) -> None:
        for _ in range(10_000):  # yields to the loop; bounded, not timed
            if predicate():
                return
            await asyncio.sleep(0)
        raise AssertionError("never happened")

    async def scenario() -> None:
        gate = PasswordCheckGate(concurrent=1, queue=1, wait_seconds=scaled(10))
        running = asyncio.ensure_future(gate.run(slow_check))
        assert await asyncio.to_thread(started.wait, scaled(10)), "the first check runs"
        queued = asyncio.ensure_future(gate.run(slow_check))
        await until(lambda: gate.waiting == 1)
        with pytest.raises(ServerBusy) as busy:  # queue full: refused at once
            await gate.run(slow_check)
        assert busy.value.status == 503 and busy.value.retry_after >= 1
        release.set()
        assert await running == "checked" and await queued == "checked"

        impatient = PasswordCheckGate(concurrent=1, queue=5, wait_seconds=0.05)
        started.clear()
        release.clear()
        first = asyncio.ensure_future(impatient.run(slow_check))
        assert await asyncio.to_thread(started.wait, scaled(10))
        with pytest.raises(ServerBusy):  # waited its longest for a turn: refused
            await impatient.run(slow_check)
        release.set()
        assert await first == "checked"

    asyncio.run(scenario())


def test_login_flood_gets_503_with_retry_after_and_the_server_keeps_answering(
    db_url: str, tmp_path
) -> None:
    server = LiveServer(
        db_url=db_url,
        data_dir=tmp_path / "server",
        extra_env={
            "ANXIN_LOGIN_CONCURRENT_HASHES": "1",
            "ANXIN_LOGIN_QUEUE": "0",
            "ANXIN_LOGIN_FAILURES_PER_MINUTE_PER_ADDRESS": "1000",
        },
    ).start()
    try:
        with httpx.Client(base_url=server.url, timeout=scaled(30)) as http:

            def attempt(_: int) -> httpx.Response:
                return http.post(
                    "/api/auth/login",
                    json={"email": f"{secrets.token_hex(4)}@x.example", "password": "guess"},
                )

            with ThreadPoolExecutor(24) as pool:
                answers = list(pool.map(attempt, range(48)))
            assert http.get("/healthz").status_code == 200
        statuses = {r.status_code for r in answers}
        assert statuses <= {401, 503}, statuses
        busy = [r for r in answers if r.status_code == 503]
        assert busy, "24 at once with room for one check: some must be turned away"
        assert busy[0].json()["code"] == "busy" and int(busy[0].headers["retry-after"]) >= 1
    finally:
        server.stop()

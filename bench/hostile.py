"""Benchmark availability under a log-in flood: does the server stay small and responsive?

1. Seeds a fresh SQLite database with one service area, one elder with a paired box and one
   operator of the area, then starts one real server process (`python -m server run`).
2. Connects the box (`/ws/box`, device token) and the operator's page (`/ws/web`, bearer).
3. For `--seconds`, `--concurrency` clients each send bad log-ins back to back (a random
   e-mail each time, wrong password), over keep-alive HTTP/1.1 connections written by hand
   so that the load generator costs little CPU next to the server on a 2-core machine.
4. Meanwhile it asks `/healthz` every 100 ms, raises an SOS from the box every
   `--sos-every` seconds (distinct keys) and times its arrival on the operator's page, and
   samples the server's RSS every 100 ms.

Every log-in comes from 127.0.0.1; to model a flood from many addresses (where limits per
address do not help) the per-address limit is raised for the run with
``ANXIN_LOGIN_FAILURES_PER_MINUTE_PER_ADDRESS`` (``--address-limit``; an older server
ignores the variable). Usage: ``python bench/hostile.py [--seconds 20] [--concurrency 100]``.
The last line printed is one JSON object with units in its key names.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.sos import cpu_s, free_port, rss_mb, wait_healthy  # noqa: E402
from protocol import (  # noqa: E402
    ClientKind,
    Hello,
    SosAlertPush,
    SosRaise,
    SosSource,
    Welcome,
    dump_message,
    parse_message,
)


def seed(url: str) -> tuple[str, str]:
    """One area, elder, paired box and operator; (device token, operator bearer token)."""
    from datetime import timedelta

    from protocol import Lang, Role
    from server.core.db import Database
    from server.core.security import hash_password, new_token, token_hash
    from server.migrate import upgrade
    from server.models import Device, Elder, ServiceArea, SessionKind, User, UserSession, utcnow

    database = Database(url)
    upgrade(database.engine)
    device_token, page_token = new_token(), new_token()
    with database.session() as db:
        area = ServiceArea(name="Bench area")
        db.add(area)
        db.flush()
        elder = Elder(name="Elder", lang=Lang.ZH, service_area_id=area.id, address="1 Road")
        db.add(elder)
        db.flush()
        db.add(Device(elder_id=elder.id, token_hash=token_hash(device_token)))
        operator = User(
            email="operator@bench.anxin",
            name="Operator",
            password_hash=hash_password("bench-password"),
            role=Role.OPERATOR,
            service_area_id=area.id,
        )
        db.add(operator)
        db.flush()
        db.add(
            UserSession(
                token_hash=token_hash(page_token),
                user_id=operator.id,
                kind=SessionKind.BEARER,
                expires_at=utcnow() + timedelta(hours=2),
            )
        )
    database.dispose()
    return device_token, page_token


def launch(url: str, port: int, data: Path, address_limit: int) -> subprocess.Popen[bytes]:
    """Start the server process (it is waited for with `wait_healthy`)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ANXIN_DATABASE_URL": url,
        "ANXIN_DATA_DIR": str(data),
        "ANXIN_SOS_ESCALATION_SECONDS": "600",  # measure delivery, not escalation mail
        "ANXIN_LOGIN_FAILURES_PER_MINUTE_PER_ADDRESS": str(address_limit),
    }
    log = (data / "server.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def http_call(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one HTTP/1.1 request on a keep-alive connection; the status of its answer."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


def login_request(port: int) -> bytes:
    """A log-in with a random e-mail and a wrong password."""
    body = json.dumps(
        {"email": f"{secrets.token_hex(6)}@flood.example", "password": "wrong-password"}
    ).encode()
    return (
        f"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def flood_client(port: int, until: float, codes: Counter[int]) -> None:
    """Bad log-ins back to back until ``until``; reconnects when the server hangs up."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            codes[0] += 1
            await asyncio.sleep(0.05)
            continue
        try:
            while time.monotonic() < until:
                codes[await http_call(reader, writer, login_request(port))] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            codes[0] += 1
        finally:
            writer.close()


async def probe_health(port: int, until: float, samples: list[float], failures: list[int]) -> None:
    """``GET /healthz`` every 100 ms on a fresh connection; latency in ms of each answer."""
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            status = await asyncio.wait_for(http_call(reader, writer, request), 30)
            writer.close()
            if status != 200:
                failures.append(status)
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            failures.append(0)
        samples.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - start)))


async def sample_rss(pid: int, until: float, samples: list[float]) -> None:
    """The server's RSS every 100 ms."""
    while time.monotonic() < until:
        samples.append(rss_mb(pid))
        await asyncio.sleep(0.1)


async def sos_loop(
    port: int, device_token: str, page_token: str, until: float, every_s: float
) -> tuple[list[float], int]:
    """Raise an SOS every ``every_s``; (box → operator latencies in ms, SOS sent)."""
    from websockets.asyncio.client import connect

    base = f"ws://127.0.0.1:{port}"
    sent: dict[str, float] = {}
    latencies: list[float] = []
    async with (
        connect(f"{base}/ws/box", ping_interval=None) as box,
        connect(f"{base}/ws/web", ping_interval=None) as page,
    ):
        await box.send(dump_message(Hello(client=ClientKind.BOX, device_token=device_token)))
        await page.send(dump_message(Hello(client=ClientKind.WEB, token=page_token)))
        for ws in (box, page):
            if not isinstance(parse_message(await ws.recv()), Welcome):
                raise RuntimeError("hello refused")

        async def drain_box() -> None:
            async for _ in box:  # acks and pushes; the box must keep reading
                pass

        async def watch_page() -> None:
            async for raw in page:
                message = parse_message(raw)
                if isinstance(message, SosAlertPush) and message.key in sent:
                    if message.status == "open":
                        latencies.append((time.perf_counter() - sent.pop(message.key)) * 1000)

        tasks = [asyncio.ensure_future(drain_box()), asyncio.ensure_future(watch_page())]
        count = 0
        while time.monotonic() < until:
            key = f"bench-hostile-{time.time_ns()}"
            sent[key] = time.perf_counter()
            await box.send(dump_message(SosRaise(key=key, source=SosSource.RED_KEY)))
            count += 1
            await asyncio.sleep(every_s)
        deadline = time.monotonic() + 10  # the last pushes may still be on their way
        while sent and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
    return latencies, count


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def p99(values: list[float]) -> float | None:
    """The 99th percentile (nearest rank), or None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1)


async def run(args: argparse.Namespace, port: int, pid: int, tokens: tuple[str, str]) -> Any:
    """Quiet phase, then the flood; the figures."""
    quiet_health: list[float] = []
    quiet_until = time.monotonic() + 3
    await probe_health(port, quiet_until, quiet_health, [])
    rss_idle = rss_mb(pid)

    server_cpu0, own_cpu0 = cpu_s(pid), _own_cpu_s()
    until = time.monotonic() + args.seconds
    codes: Counter[int] = Counter()
    health: list[float] = []
    health_failures: list[int] = []
    rss: list[float] = []
    floods = [flood_client(port, until, codes) for _ in range(args.concurrency)]
    results = await asyncio.gather(
        sos_loop(port, *tokens, until, args.sos_every),
        probe_health(port, until, health, health_failures),
        sample_rss(pid, until, rss),
        *floods,
    )
    latencies, sos_sent = results[0]
    server_cpu, own_cpu = cpu_s(pid) - server_cpu0, _own_cpu_s() - own_cpu0
    return {
        "flood_seconds": args.seconds,
        "flood_concurrency": args.concurrency,
        "logins_answered": sum(n for code, n in codes.items() if code),
        "logins_by_status": {str(code): n for code, n in sorted(codes.items())},
        "healthz_quiet_p99_ms": p99(quiet_health),
        "healthz_flood_p50_ms": round(statistics.median(health), 1) if health else None,
        "healthz_flood_p99_ms": p99(health),
        "healthz_flood_max_ms": round(max(health), 1) if health else None,
        "healthz_flood_failures": len(health_failures),
        "server_rss_idle_mb": round(rss_idle),
        "server_rss_flood_peak_mb": round(max(rss)) if rss else None,
        "sos_sent": sos_sent,
        "sos_received": len(latencies),
        "box_to_operator_flood_p50_ms": (
            round(statistics.median(latencies), 1) if latencies else None
        ),
        "box_to_operator_flood_p99_ms": p99(latencies),
        # On 2 shared cores the load generator competes with the server: both are shown.
        "server_cpu_pct_flood": round(server_cpu / args.seconds * 100),
        "load_generator_cpu_pct_flood": round(own_cpu / args.seconds * 100),
    }


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the flood")
    parser.add_argument("--concurrency", type=int, default=100, help="concurrent bad log-ins")
    parser.add_argument("--sos-every", type=float, default=0.5, help="seconds between SOS")
    parser.add_argument(
        "--address-limit",
        type=int,
        default=1_000_000,
        help="failed log-ins per minute from one address (high: a flood from many addresses)",
    )
    args = parser.parse_args()
    load_at_start = round(os.getloadavg()[0], 1)  # the machine is shared: say how busy it was
    data = Path(tempfile.mkdtemp(prefix="anxin-bench-hostile-"))
    url = f"sqlite:///{data / 'bench.sqlite3'}"
    tokens = seed(url)
    port = free_port()
    server = launch(url, port, data, args.address_limit)
    try:
        wait_healthy(server, port, data)
        print(f"server up on port {port} (log in {data})", flush=True)
        figures = asyncio.run(run(args, port, server.pid, tokens))
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    figures["load_average_at_start"] = load_at_start
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

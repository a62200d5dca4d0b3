"""Benchmark SOS delivery: thousands of connected boxes, operator and family pages, a restart.

1. Seeds a database with one service area, `--boxes` elders each with a paired box, and
   `--pages` page users (half operators of the area, half family members).
2. Starts one real server process (`python -m server run`), the pages (real WebSocket
   clients in one process) and the boxes (real WebSocket clients, `--box-procs` processes,
   asyncio, many sockets each) speaking the Anxin protocol with heartbeats.
3. Raises `--sos` SOS from distinct boxes at `--rate` per second; each key carries its send
   time, so every operator page's receipt gives one latency sample (same machine clock).
4. Reads the server's RSS, restarts the server (SIGTERM, start again), and times how long
   until every box has said hello again (boxes reconnect with the real box backoff).

Usage: ``python bench/sos.py [--boxes 2000] [--pages 20] [--sos 200] [--rate 20]``.
The last line printed is one JSON object with units in its key names.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from protocol import (  # noqa: E402
    ClientKind,
    Heartbeat,
    Hello,
    SosAlertPush,
    SosRaise,
    SosSource,
    Welcome,
    dump_message,
    parse_message,
)

HEARTBEAT_S = 10.0
HELLO_TIMEOUT_S = 120.0  # the real box gives up after 10 s; see the report for why not here


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(url: str, boxes: int, pages: int) -> tuple[list[str], list[str]]:
    """Create the world; (device tokens, page bearer tokens)."""
    from datetime import timedelta

    from protocol import Lang, Role
    from server.core.db import Database
    from server.core.security import hash_password, new_token, token_hash
    from server.migrate import upgrade
    from server.models import (
        CareLink,
        Device,
        Elder,
        ServiceArea,
        SessionKind,
        User,
        UserSession,
        utcnow,
    )

    database = Database(url)
    upgrade(database.engine)
    device_tokens = [new_token() for _ in range(boxes)]
    page_tokens = [new_token() for _ in range(pages)]
    password = hash_password("bench-password")
    with database.session() as db:
        area = ServiceArea(name="Bench area")
        db.add(area)
        db.flush()
        elders = [
            Elder(
                name=f"Elder {i}",
                lang=Lang.ZH,
                latitude=39.9 + i * 1e-5,
                longitude=116.4,
                service_area_id=area.id,
                address=f"{i} Bench Road",
            )
            for i in range(boxes)
        ]
        db.add_all(elders)
        db.flush()
        db.add_all(
            Device(elder_id=e.id, token_hash=token_hash(t))
            for e, t in zip(elders, device_tokens, strict=True)
        )
        users = []
        for i in range(pages):
            operator = i < (pages + 1) // 2
            users.append(
                User(
                    email=f"page{i}@bench.anxin",
                    name=f"Page {i}",
                    password_hash=password,
                    role=Role.OPERATOR if operator else Role.FAMILY,
                    service_area_id=area.id if operator else None,
                )
            )
        db.add_all(users)
        db.flush()
        for n, user in enumerate(users):
            if user.role is Role.FAMILY:  # each family member has a share of the elders
                db.add_all(
                    CareLink(user_id=user.id, elder_id=e.id, relation="daughter")
                    for e in elders[n::pages]
                )
        db.add_all(
            UserSession(
                token_hash=token_hash(t),
                user_id=u.id,
                kind=SessionKind.BEARER,
                expires_at=utcnow() + timedelta(hours=2),
            )
            for u, t in zip(users, page_tokens, strict=True)
        )
    database.dispose()
    return device_tokens, page_tokens


# -- box worker process ---------------------------------------------------------------


async def box_client(
    url: str, token: str, index: int, welcomed: dict[int, float], sockets: dict[int, Any]
) -> None:
    """One box: hello, heartbeats, reconnect with the real box backoff; forever."""
    from websockets.asyncio.client import connect

    from tvbox.link.server_link import Backoff

    backoff = Backoff(0.5, 30.0)
    while True:
        try:
            async with connect(
                url, open_timeout=HELLO_TIMEOUT_S, ping_interval=None, max_size=2**16
            ) as ws:
                await ws.send(dump_message(Hello(client=ClientKind.BOX, device_token=token)))
                reply = parse_message(await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT_S))
                if not isinstance(reply, Welcome):
                    raise ConnectionError(f"refused: {reply}")
                backoff.reset()
                welcomed[index] = time.time()
                sockets[index] = ws
                try:
                    while True:
                        try:
                            await asyncio.wait_for(ws.recv(), HEARTBEAT_S)
                        except TimeoutError:
                            await ws.send(dump_message(Heartbeat()))
                finally:
                    sockets.pop(index, None)
                    welcomed.pop(index, None)
        except Exception:  # noqa: BLE001 - a box keeps trying whatever happened
            await asyncio.sleep(backoff.next_delay())


async def box_worker_main(
    url: str, tokens: list[str], first: int, commands: Any, results: Any, ramp_per_s: float
) -> None:
    welcomed: dict[int, float] = {}
    sockets: dict[int, Any] = {}

    async def switch_on() -> None:
        for n, token in enumerate(tokens):
            asyncio.ensure_future(box_client(url, token, first + n, welcomed, sockets))
            await asyncio.sleep(1 / ramp_per_s)  # boxes are switched on over time, not at once

    ramp = asyncio.ensure_future(switch_on())  # answer counts while still switching on
    while True:
        command = await asyncio.to_thread(commands.get)
        if command[0] == "count":
            results.put(("count", len(welcomed)))
        elif command[0] == "sos":
            index = command[1]
            ws = sockets.get(index)
            sent = time.time()
            key = f"bench-{time.time_ns()}-{index}"
            if ws is not None:
                await ws.send(dump_message(SosRaise(key=key, source=SosSource.RED_KEY)))
            results.put(("sent", key, sent, ws is not None))
        elif command[0] == "stop":
            ramp.cancel()
            results.put(("stopped",))
            return


def box_worker(
    url: str, tokens: list[str], first: int, commands: Any, results: Any, ramp_per_s: float
) -> None:
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (20000, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    )
    asyncio.run(box_worker_main(url, tokens, first, commands, results, ramp_per_s))


# -- page process -----------------------------------------------------------------------


async def page_client(
    url: str, token: str, index: int, receipts: list[tuple[int, str, float]], ready: set[int]
) -> None:
    from websockets.asyncio.client import connect

    while True:
        try:
            async with connect(url, open_timeout=30, ping_interval=None, max_size=2**20) as ws:
                await ws.send(dump_message(Hello(client=ClientKind.WEB, token=token)))
                ready.add(index)
                # Beat on a timer whatever arrives, like live.js: a page that only beats when
                # idle falls silent while presence pushes keep coming, and the server drops it.
                next_beat = time.monotonic() + HEARTBEAT_S
                while True:
                    try:
                        raw = await asyncio.wait_for(
                            ws.recv(), max(0.0, next_beat - time.monotonic())
                        )
                    except TimeoutError:
                        await ws.send(dump_message(Heartbeat()))
                        next_beat = time.monotonic() + HEARTBEAT_S
                        continue
                    now = time.time()
                    if '"sos_alert"' in raw:
                        message = parse_message(raw)
                        if isinstance(message, SosAlertPush) and message.status == "open":
                            receipts.append((index, message.key, now))
        except Exception:  # noqa: BLE001
            ready.discard(index)
            await asyncio.sleep(0.5 + random.random())


async def page_worker_main(url: str, tokens: list[str], commands: Any, results: Any) -> None:
    receipts: list[tuple[int, str, float]] = []
    ready: set[int] = set()
    for n, token in enumerate(tokens):
        asyncio.ensure_future(page_client(url, token, n, receipts, ready))
    while True:
        command = await asyncio.to_thread(commands.get)
        if command[0] == "count":
            results.put(("count", len(ready), len(receipts)))
        elif command[0] == "receipts":
            results.put(("receipts", list(receipts)))
        elif command[0] == "stop":
            return


def page_worker(url: str, tokens: list[str], commands: Any, results: Any) -> None:
    asyncio.run(page_worker_main(url, tokens, commands, results))


# -- the server ------------------------------------------------------------------------


def start_server(url: str, port: int, data: Path) -> subprocess.Popen[bytes]:
    """Start the server and wait until it answers."""
    proc = launch_server(url, port, data)
    wait_healthy(proc, port, data)
    return proc


def launch_server(url: str, port: int, data: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ANXIN_DATABASE_URL": url,
        "ANXIN_DATA_DIR": str(data),
        "ANXIN_WS_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
        "ANXIN_WS_DEAD_AFTER_SECONDS": str(HEARTBEAT_S * 3),
        "ANXIN_SOS_ESCALATION_SECONDS": "600",  # measure delivery, not escalation mail
    }
    log = (data / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc


def wait_healthy(proc: subprocess.Popen[bytes], port: int, data: Path) -> None:
    import httpx

    # Generous: after a restart the server answers while thousands of boxes reconnect.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("server exited at start; see " + str(data / "server.log"))
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def profile(py_spy: str | None, pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    """Start sampling the server with py-spy (collapsed stacks of busy threads)."""
    if py_spy is None:
        return None
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
        + ["--rate", "50", "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profile(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used: on a shared machine this says more
    about the server's own cost than wall-clock figures do."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--box-procs", type=int, default=4)
    parser.add_argument("--sos", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="SOS per second")
    parser.add_argument(
        "--connect-rate", type=float, default=100.0, help="boxes switched on per second at first"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--py-spy",
        default=None,
        metavar="PATH",
        help="py-spy executable: profile the server (connect, SOS, restart) into the data dir",
    )
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 20000)), hard))

    load_at_start = round(os.getloadavg()[0], 1)  # the machine is shared: say how busy it was
    data = Path(tempfile.mkdtemp(prefix="anxin-bench-sos-"))
    url = args.database_url or f"sqlite:///{data / 'bench.sqlite3'}"
    t0 = time.monotonic()
    device_tokens, page_tokens = seed(url, args.boxes, args.pages)
    print(
        f"seeded {args.boxes} boxes, {args.pages} pages in {time.monotonic() - t0:.1f} s "
        f"(server log and profiles in {data})",
        flush=True,
    )
    port = free_port()
    server = start_server(url, port, data)
    ws_box, ws_web = f"ws://127.0.0.1:{port}/ws/box", f"ws://127.0.0.1:{port}/ws/web"
    ctx = mp.get_context("spawn")

    procs: list[Any] = []
    servers = [server]
    spy = profile(args.py_spy, server.pid, data / "profile-connect.txt")
    try:
        page_cmd, page_res = ctx.Queue(), ctx.Queue()
        pages = ctx.Process(target=page_worker, args=(ws_web, page_tokens, page_cmd, page_res))
        pages.start()
        procs.append(pages)
        box_cmds: list[Any] = []
        box_res: list[Any] = []
        per = -(-args.boxes // args.box_procs)
        t_connect = time.monotonic()
        for p in range(args.box_procs):
            chunk = device_tokens[p * per : (p + 1) * per]
            cmd, res = ctx.Queue(), ctx.Queue()
            ramp = args.connect_rate / args.box_procs
            proc = ctx.Process(target=box_worker, args=(ws_box, chunk, p * per, cmd, res, ramp))
            proc.start()
            box_cmds.append(cmd)
            box_res.append(res)
            procs.append(proc)

        def connected_boxes() -> int:
            for cmd in box_cmds:
                cmd.put(("count",))
            return sum(res.get(timeout=120)[1] for res in box_res)

        def wait_all_boxes(limit_s: float) -> float:
            start = time.monotonic()
            shown = start
            while time.monotonic() - start < limit_s:
                count = connected_boxes()
                if count >= args.boxes:
                    return time.monotonic() - start
                if time.monotonic() - shown > 5:
                    print(f"  {count} boxes connected", flush=True)
                    shown = time.monotonic()
                time.sleep(0.2)
            raise RuntimeError(f"only {connected_boxes()} of {args.boxes} boxes connected")

        wait_all_boxes(60 + args.boxes / args.connect_rate * 3)
        connect_s = time.monotonic() - t_connect
        cpu_connected = cpu_s(server.pid)
        page_cmd.put(("count",))
        ready = page_res.get(timeout=30)[1]
        print(
            f"{args.boxes} boxes connected in {connect_s:.1f} s; pages ready: {ready}", flush=True
        )
        rss_idle = rss_mb(server.pid)
        # What the connected boxes cost at rest (heartbeats, watchdogs, presence flushes).
        cpu_before, idle_start = cpu_s(server.pid), time.monotonic()
        time.sleep(10)
        cpu_idle_pct = (cpu_s(server.pid) - cpu_before) / (time.monotonic() - idle_start) * 100
        cpu_sos_start = cpu_s(server.pid)
        stop_profile(spy)
        spy = profile(args.py_spy, server.pid, data / "profile-sos.txt")

        # Raise SOS from distinct boxes at the given rate.
        chosen = random.Random(7).sample(range(args.boxes), args.sos)
        sent: dict[str, float] = {}
        start = time.monotonic()
        for n, index in enumerate(chosen):
            due = start + n / args.rate
            time.sleep(max(0.0, due - time.monotonic()))
            box_cmds[index // per].put(("sos", index))
        got = 0
        while got < args.sos:
            for res in box_res:
                while not res.empty():
                    item = res.get()
                    if item[0] == "sent" and item[3]:
                        sent[item[1]] = item[2]
                    got += 1 if item[0] == "sent" else 0
            time.sleep(0.05)
        operators = (args.pages + 1) // 2
        # Family member n is linked to the elders whose box index ≡ n (mod pages).
        family_expected = sum(
            1 for key in sent if int(key.rsplit("-", 1)[1]) % args.pages >= operators
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # every receipt, family ones too, or the deadline
            page_cmd.put(("count",))
            _, _, receipts = page_res.get(timeout=30)
            if receipts >= len(sent) * operators + family_expected:
                break
            time.sleep(0.2)
        page_cmd.put(("receipts",))
        receipts = page_res.get(timeout=30)[1]
        latencies = sorted(
            (t - sent[key]) * 1000
            for index, key, t in receipts
            if key in sent and index < operators
        )
        family_got = sum(1 for index, key, _ in receipts if index >= operators and key in sent)
        rss_after = rss_mb(server.pid)
        cpu_sos = cpu_s(server.pid) - cpu_sos_start
        p50 = statistics.median(latencies) if latencies else None
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None
        print(
            f"SOS: {len(sent)} sent, {len(latencies)} operator receipts "
            f"(expected {len(sent) * operators}), {family_got} family receipts "
            f"(expected {family_expected}); p50 {p50:.1f} ms, p99 {p99:.1f} ms",
            flush=True,
        )

        # Restart: all boxes must come back.
        stop_profile(spy)
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        while connected_boxes() > 0:
            time.sleep(0.2)
        t_restart = time.monotonic()
        server = launch_server(url, port, data)
        servers.append(server)
        spy = profile(args.py_spy, server.pid, data / "profile-restart.txt")
        wait_healthy(server, port, data)
        started_s = time.monotonic() - t_restart
        reconnect_s = wait_all_boxes(240)
        back_s = time.monotonic() - t_restart
        cpu_restart = cpu_s(server.pid)
        stop_profile(spy)
        rss_reconnected = rss_mb(server.pid)
        print(
            f"restart: server up in {started_s:.1f} s, all {args.boxes} boxes back "
            f"{reconnect_s:.1f} s after that; RSS {rss_idle:.0f} → {rss_after:.0f} → "
            f"{rss_reconnected:.0f} MB",
            flush=True,
        )

        for cmd in box_cmds:
            cmd.put(("stop",))
        page_cmd.put(("stop",))
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    finally:  # never leave thousands of sockets or a server behind
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        for srv in servers:
            if srv.poll() is None:
                srv.kill()

    print(
        json.dumps(
            {
                "boxes": args.boxes,
                "pages": args.pages,
                "sos_sent": len(sent),
                "operator_receipts": len(latencies),
                "family_receipts": family_got,
                "family_receipts_expected": family_expected,
                "box_to_operator_p50_ms": round(p50, 1) if p50 is not None else None,
                "box_to_operator_p99_ms": round(p99, 1) if p99 is not None else None,
                "server_rss_idle_mb": round(rss_idle),
                "server_rss_after_sos_mb": round(rss_after),
                "server_rss_after_reconnect_mb": round(rss_reconnected),
                "initial_connect_s": round(connect_s, 1),
                "server_restart_s": round(started_s, 1),
                "all_boxes_reconnected_after_restart_s": round(reconnect_s, 1),
                "restart_to_all_boxes_back_s": round(back_s, 1),
                "server_cpu_s_start_and_connect": round(cpu_connected, 1),
                "server_cpu_pct_at_rest_with_all_boxes": round(cpu_idle_pct, 1),
                "server_cpu_s_sos_phase": round(cpu_sos, 1),
                "server_cpu_s_restart_until_all_back": round(cpu_restart, 1),
                "load_average_at_start": load_at_start,
            }
        )
    )


if __name__ == "__main__":
    main()

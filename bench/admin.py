"""Benchmark the care centre's register of elders: a 100 000-row CSV import and the list.

1. Creates a fresh PostgreSQL database (``--pg``, default the local test server; or
   ``--database-url`` for any database), migrates it, seeds one area and one operator.
2. Starts one real server process (``python -m server run``).
3. Generates a ``--rows`` CSV for the area and imports it over HTTP as the operator
   (``POST /api/elders/import``, text/csv body): wall time, rows/s, the server's peak RSS
   (sampled from /proc every 50 ms).
4. Requests the list page ``/elders`` ``--requests`` times over pages (newest, by name,
   deep offsets) and searches (name contains, phone digits): p50/p99 of the client time on
   loopback (an upper bound of the server time: it includes HTTP and the client).

Usage: ``python bench/admin.py [--rows 100000] [--requests 200]``.
The last line printed is one JSON object with units in its key names.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

PASSWORD = "bench-password-elders"
OPERATOR = "operator@bench.anxin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_pg(admin_url: str) -> str:
    """A new empty database on the server of ``admin_url``; its URL."""
    import psycopg

    name = f"bench_admin_{uuid.uuid4().hex[:10]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def seed(url: str) -> None:
    from protocol import Lang, Role
    from server.core.db import Database
    from server.core.security import hash_password
    from server.migrate import upgrade
    from server.models import Clinic, ServiceArea, User

    database = Database(url)
    upgrade(database.engine)
    with database.session() as db:
        area = ServiceArea(name="Bench area")
        db.add_all([area, Clinic(name="Bench clinic")])
        db.flush()
        db.add(
            User(
                email=OPERATOR,
                name="Bench operator",
                password_hash=hash_password(PASSWORD),
                role=Role.OPERATOR,
                lang=Lang.EN,
                service_area_id=area.id,
            )
        )
        db.commit()
    database.dispose()


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英桂兰玉兰淑珍凤英建国志强明华伟芳敏静丽军勇"


def name_of(i: int) -> str:
    rng = random.Random(i)
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2)) + str(i % 997)


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("\ufeffregister_ref,name,phone,birth_year,lang,address,latitude,longitude,")
        out.write("lives_alone,clinic,care_notes\n")
        for i in range(rows):
            out.write(
                f"R{i:07d},{name_of(i)},139{i:08d},{1930 + i % 40},zh,"
                f"浦东新区{i % 500}弄{i % 97}号,{31 + (i % 1000) / 10000:.6f},"
                f"{121.4 + (i % 700) / 10000:.6f},{'是' if i % 3 == 0 else '否'},"
                f"Bench clinic,\n"
            )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(url: str, port: int, data: Path) -> subprocess.Popen[bytes]:
    import httpx

    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ANXIN_DATABASE_URL": url,
        "ANXIN_DATA_DIR": str(data),
    }
    log = (data / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("server exited at start; see " + str(data / "server.log"))
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--pg",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server where a fresh database is created",
    )
    parser.add_argument("--database-url", default=None, help="use this database instead")
    args = parser.parse_args()
    import httpx

    load_at_start = round(os.getloadavg()[0], 1)  # the machine is shared: say how busy
    data = Path(tempfile.mkdtemp(prefix="anxin-bench-admin-"))
    url = args.database_url or fresh_pg(args.pg)
    seed(url)
    port = free_port()
    server = start_server(url, port, data)
    base = f"http://127.0.0.1:{port}"
    try:
        csv_path = data / "register.csv"
        write_csv(csv_path, args.rows)
        client = httpx.Client(base_url=base, timeout=600)
        login = client.post("/api/auth/login", json={"email": OPERATOR, "password": PASSWORD})
        login.raise_for_status()
        token = login.json()["access_token"]
        peak = [rss_mb(server.pid)]
        rss_before = peak[0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], rss_mb(server.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        with csv_path.open("rb") as body:
            resp = client.post(
                "/api/elders/import",
                content=body,
                headers={"authorization": f"Bearer {token}", "content-type": "text/csv"},
            )
        import_s = time.monotonic() - started
        done.set()
        sampler.join()
        resp.raise_for_status()
        report = resp.json()
        print(
            f"import: {report['created']} created, {report['refused']} refused in "
            f"{import_s:.1f} s, server RSS {rss_before:.0f} -> peak {peak[0]:.0f} MB",
            flush=True,
        )
        again = time.monotonic()
        second = client.post(
            "/api/elders/import",
            content=csv_path.read_bytes(),
            headers={"authorization": f"Bearer {token}", "content-type": "text/csv"},
        ).json()
        reimport_s = time.monotonic() - again
        print(f"re-import: {second['unchanged']} unchanged in {reimport_s:.1f} s", flush=True)

        # The list page as the operator's browser sees it (cookie session).
        page = httpx.Client(base_url=base, timeout=30)
        page.post("/login", data={"email": OPERATOR, "password": PASSWORD})
        rng = random.Random(7)
        kinds: dict[str, list[float]] = {}
        for i in range(args.requests):
            kind = ["newest", "name", "deep", "search_name", "search_phone"][i % 5]
            params: dict[str, str] = {}
            if kind == "newest":
                params = {"offset": str(50 * rng.randrange(20))}
            elif kind == "name":
                params = {"order": "name", "offset": str(50 * rng.randrange(20))}
            elif kind == "deep":
                params = {"offset": str(50 * rng.randrange(args.rows // 50))}
            elif kind == "search_name":
                params = {"q": name_of(rng.randrange(args.rows))[:2]}
            else:
                params = {"q": f"{rng.randrange(args.rows):08d}"[-6:]}
            t = time.monotonic()
            r = page.get("/elders", params=params, headers={"accept": "text/html"})
            ms = (time.monotonic() - t) * 1000
            r.raise_for_status()
            kinds.setdefault(kind, []).append(ms)
        every = [v for values in kinds.values() for v in values]
        by_kind = {f"list_{k}_p99_ms": round(pct(v, 0.99), 1) for k, v in kinds.items()}
        figures = {
            "rows": args.rows,
            "import_s": round(import_s, 2),
            "import_rows_per_s": round(args.rows / import_s),
            "import_peak_rss_mb": round(peak[0]),
            "reimport_unchanged_s": round(reimport_s, 2),
            "list_requests": len(every),
            "list_p50_ms": round(statistics.median(every), 1),
            "list_p99_ms": round(pct(every, 0.99), 1),
            **by_kind,
            "list_time_is": "client time on loopback",
            "load_avg_at_start": load_at_start,
        }
        print(json.dumps(figures))
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()

"""The first administrator: `anxin-server create-admin`, and the one-time ``/setup`` page."""

from __future__ import annotations

import subprocess
import sys
import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from protocol import Lang, Role
from server.admins import AdminRefused, create_admin
from server.models import AuditEntry, User
from server.runtime import Runtime
from tests.support.live_server import ROOT

GOOD = "river otter lantern 42"
HTML = {"accept": "text/html"}


def run_cli(db_url: str, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {"ANXIN_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "server", "create-admin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def admins(rt: Runtime) -> list[User]:
    with rt.db.session() as db:
        return list(db.scalars(select(User).where(User.role == Role.ADMIN)))


def test_create_admin_reads_the_password_twice_from_stdin_and_can_log_in(
    db_url: str, rt: Runtime, client: TestClient
) -> None:
    done = run_cli(
        db_url,
        "--email",
        "Chief@Example.org",
        "--name",
        "Li Wei",
        "--lang",
        "en",
        stdin=f"{GOOD}\n{GOOD}\n",
    )
    assert done.returncode == 0, done.stderr
    assert "created administrator chief@example.org" in done.stdout
    assert GOOD not in done.stdout + done.stderr
    [admin] = admins(rt)
    assert (admin.name, admin.lang, admin.password_changed_at is not None) == (
        "Li Wei",
        Lang.EN,
        True,
    )
    resp = client.post("/api/auth/login", json={"email": "chief@example.org", "password": GOOD})
    assert resp.status_code == 200
    assert resp.json()["user"]["role"] == "admin"


def test_create_admin_refuses_a_weak_password_a_mismatch_and_a_taken_email(
    db_url: str, rt: Runtime
) -> None:
    weak = run_cli(db_url, "--email", "a@example.org", "--name", "A", stdin="password\npassword\n")
    assert weak.returncode == 2
    assert "password" in weak.stderr.lower() and "refused" in weak.stderr
    differs = run_cli(db_url, "--email", "a@example.org", "--name", "A", stdin=f"{GOOD}\n{GOOD}x\n")
    assert differs.returncode == 2 and "not the same" in differs.stderr
    assert admins(rt) == []
    assert (
        run_cli(
            db_url, "--email", "a@example.org", "--name", "A", stdin=f"{GOOD}\n{GOOD}\n"
        ).returncode
        == 0
    )
    again = run_cli(db_url, "--email", "A@example.org", "--name", "B", stdin=f"{GOOD}\n{GOOD}\n")
    assert again.returncode == 2
    assert "already an account" in again.stderr
    assert len(admins(rt)) == 1


def test_an_empty_database_sends_everyone_to_setup_once(client: TestClient, rt: Runtime) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/setup"
    assert client.get("/login", follow_redirects=False).headers["location"] == "/setup"
    page = client.get("/setup?lang=en", headers=HTML)
    assert page.status_code == 200 and "Set up Anxin" in page.text

    form = {
        "name": "Zhang Min",
        "email": "zm@example.org",
        "password": GOOD,
        "repeat": GOOD + "!",
        "lang": "en",
    }
    refused = client.post("/setup", data=form, headers=HTML)
    assert refused.status_code == 400
    assert "The two passwords are not the same." in refused.text
    assert 'value="zm@example.org"' in refused.text and 'value="Zhang Min"' in refused.text
    weak = client.post("/setup", data={**form, "password": "12345678", "repeat": "12345678"})
    assert weak.status_code == 400 and "too easy to guess" in weak.text

    made = client.post("/setup", data={**form, "repeat": GOOD}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/admin"
    me = client.get("/api/auth/me")  # logged in by the set-up's cookie
    assert me.status_code == 200 and me.json()["email"] == "zm@example.org"
    with rt.db.session() as db:
        [entry] = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "account.first_admin_created")
        )
        assert entry.target == f"user:{me.json()['id']}"

    again = client.get("/setup", headers=HTML)
    assert again.status_code == 404 and "already set up" in again.text
    second = client.post("/setup", data={**form, "email": "x@example.org", "repeat": GOOD})
    assert second.status_code == 404
    assert client.get("/login", follow_redirects=False).status_code == 200
    assert len(admins(rt)) == 1


def test_two_setups_at_once_make_one_administrator(rt: Runtime) -> None:
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def set_up(n: int) -> None:
        start.wait()
        try:
            with rt.db.session() as db:
                create_admin(
                    db,
                    email=f"admin{n}@example.org",
                    name=f"Admin {n}",
                    password=GOOD,
                    lang=Lang.ZH,
                    first=True,
                )
            outcomes.append("made")
        except AdminRefused as err:
            outcomes.append(err.key)

    threads = [threading.Thread(target=set_up, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["admins.already_set_up", "made"]
    with rt.db.session() as db:
        assert db.scalar(select(func.count(User.id))) == 1

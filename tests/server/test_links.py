"""Password reset by e-mailed link: the real local SMTP server receives it; it works once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol import Lang, Role
from server.core.security import hash_password
from server.links import INVITE_TTL, issue_link, link_url
from server.models import LinkPurpose, OneTimeLink, OutgoingMessage, User, utcnow
from server.notify import SmtpNotifier
from server.runtime import Runtime
from tests.conftest import bearer
from tests.support.smtp import Mailbox, smtp_server
from tests.support.world import World, make_user

HTML = {"accept": "text/html"}
NEW = "violet harbour tram 58"
SENT = "If an account exists for that address, we sent a link to it."


@pytest.fixture
def mailbox(rt: Runtime) -> Iterator[Mailbox]:
    with smtp_server() as (box, port):
        rt.notifier = SmtpNotifier("127.0.0.1", port, "anxin@test.anxin", timeout=5)
        yield box


def link_in(mail_body: str) -> str:
    found = re.search(r"https?://\S+/reset-password/([^\s?]+)", mail_body)
    assert found, mail_body
    return found.group(1)


def ask(client: TestClient, email: str) -> str:
    resp = client.post("/forgot-password?lang=en", data={"email": email}, headers=HTML)
    assert resp.status_code == 200, resp.text
    return resp.text


def test_reset_by_email_works_once_and_ends_every_session(
    client: TestClient, world: World, mailbox: Mailbox, rt: Runtime
) -> None:
    login = client.get("/login?lang=en", headers=HTML)
    assert 'href="/forgot-password"' in login.text
    session = bearer(client, world.family_a.email)
    with rt.db.session() as db:  # a password set before: the page says "Reset"
        user = db.get(User, world.family_a.id)
        assert user is not None
        user.password_changed_at = utcnow() - timedelta(days=30)
    assert SENT in ask(client, world.family_a.email.upper())
    [mail] = mailbox.wait(1)
    assert mail["To"] == world.family_a.email
    body = mail.get_content()
    assert "set a new password" in mail["Subject"] and world.family_a.name in body
    token = link_in(body)

    form = client.get(f"/reset-password/{token}", headers=HTML)
    assert form.status_code == 200 and "Reset your password" in form.text
    weak = client.post(
        f"/reset-password/{token}", data={"new": "aaaaaaaaaa", "repeat": "aaaaaaaaaa"}, headers=HTML
    )
    assert weak.status_code == 400 and "too easy to guess" in weak.text
    done = client.post(
        f"/reset-password/{token}", data={"new": NEW, "repeat": NEW}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/login?done=password"
    assert "Your password was changed" in client.get(done.headers["location"], headers=HTML).text
    assert client.get("/api/auth/me", headers=session).status_code == 401
    assert (
        client.post(
            "/api/auth/login", json={"email": world.family_a.email, "password": NEW}
        ).status_code
        == 200
    )
    with rt.db.session() as db:
        user = db.get(User, world.family_a.id)
        assert user is not None and user.password_changed_at is not None
        assert utcnow() - user.password_changed_at < timedelta(minutes=1)

    again = client.get(f"/reset-password/{token}", headers=HTML)
    assert again.status_code == 410 and "already been used" in again.text
    assert 'href="/forgot-password"' in again.text
    reused = client.post(f"/reset-password/{token}", data={"new": NEW, "repeat": NEW}, headers=HTML)
    assert reused.status_code == 410


def test_unknown_address_gets_the_same_answer_and_no_mail(
    client: TestClient, world: World, mailbox: Mailbox, rt: Runtime
) -> None:
    assert SENT in ask(client, "nobody@example.org")
    assert (
        client.post("/api/auth/password-reset", json={"email": "no@example.org"}).status_code == 202
    )
    with rt.db.session() as db:
        assert db.scalars(select(OutgoingMessage)).all() == []
    # a known address through the API: 202 as well, and the mail goes
    assert (
        client.post("/api/auth/password-reset", json={"email": world.doctor_a.email}).status_code
        == 202
    )
    [mail] = mailbox.wait(1)
    assert mail["To"] == world.doctor_a.email


def test_reset_mail_is_in_the_person_s_language(
    client: TestClient, rt: Runtime, mailbox: Mailbox
) -> None:
    with rt.db.session() as db:
        user = make_user(db, Role.FAMILY, lang=Lang.ZH, name="王芳")
        email = user.email
    ask(client, email)
    [mail] = mailbox.wait(1)
    assert "设置新密码" in mail["Subject"] and "王芳" in mail.get_content()


def test_asking_too_often_is_limited(client: TestClient, world: World, mailbox: Mailbox) -> None:
    for _ in range(5):
        ask(client, world.family_b.email)
    resp = client.post(
        "/forgot-password?lang=en", data={"email": world.family_b.email}, headers=HTML
    )
    assert resp.status_code == 429 and "Too many links" in resp.text
    assert (
        client.post("/api/auth/password-reset", json={"email": world.family_b.email}).status_code
        == 429
    )


def reset_token(rt: Runtime, user_id: int, email: str) -> str:
    with rt.db.session() as db:
        token, _ = issue_link(db, rt.settings.secret_key, LinkPurpose.RESET, email, user_id=user_id)
        return token


def test_refused_links_show_a_clear_page(client: TestClient, world: World, rt: Runtime) -> None:
    expired = reset_token(rt, world.family_a.id, world.family_a.email)
    with rt.db.session() as db:
        for row in db.scalars(select(OneTimeLink)):
            row.expires_at = utcnow() - timedelta(minutes=1)
    good = reset_token(rt, world.family_b.id, world.family_b.email)
    tampered = good[:5] + ("A" if good[5] != "A" else "B") + good[6:]
    inactive = reset_token(rt, world.doctor_a.id, world.doctor_a.email)
    with rt.db.session() as db:
        doctor = db.get(User, world.doctor_a.id)
        assert doctor is not None
        doctor.is_active = False
    cases = [
        (expired, 410, "has expired"),
        (tampered, 400, "damaged"),
        (good + "x", 400, "damaged"),
        ("nonsense", 400, "damaged"),
        (inactive, 410, "no longer active"),
    ]
    for token, status, message in cases:
        for resp in (
            client.get(f"/reset-password/{token}?lang=en", headers=HTML),
            client.post(
                f"/reset-password/{token}?lang=en", data={"new": NEW, "repeat": NEW}, headers=HTML
            ),
        ):
            assert resp.status_code == status, (token, resp.text)
            assert message in resp.text
            assert "Ask for a new link" in resp.text
    assert client.get(f"/reset-password/{good}", headers=HTML).status_code == 200


def test_a_new_staff_member_sets_a_first_password(
    client: TestClient, rt: Runtime, world: World
) -> None:
    with rt.db.session() as db:
        unusable = hash_password("unusable " + "x" * 40)
        user = make_user(db, Role.CLINIC_STAFF, password_hash=unusable, lang=Lang.EN)
        token, _ = issue_link(
            db,
            rt.settings.secret_key,
            LinkPurpose.RESET,
            user.email,
            user_id=user.id,
            ttl=INVITE_TTL,
        )
        email = user.email
    url = link_url(rt.settings.public_base_url, LinkPurpose.RESET, token)
    assert url.endswith(f"/reset-password/{token}")
    form = client.get(f"/reset-password/{token}?lang=en", headers=HTML)
    assert "Set your password" in form.text and "Reset" not in form.text
    done = client.post(
        f"/reset-password/{token}", data={"new": NEW, "repeat": NEW}, follow_redirects=False
    )
    assert done.status_code == 303
    assert client.post("/api/auth/login", json={"email": email, "password": NEW}).status_code == 200

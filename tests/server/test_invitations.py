"""Family invitations: invite by e-mail, accept (new or existing account), leave, remove."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from protocol import Lang, Role
from server.errors import Conflict
from server.invitations.family import remove_member
from server.models import CareLink, Elder, OneTimeLink, User, utcnow
from server.notify import SmtpNotifier
from server.runtime import Runtime
from tests.conftest import bearer
from tests.support.smtp import Mailbox, smtp_server
from tests.support.world import PASSWORD, World, link, make_user

HTML = {"accept": "text/html"}
NEW = "quiet meadow bicycle 31"
ROLES = ["family_a", "family_b", "doctor_a", "doctor_b", "operator_a", "operator_b", "admin"]


@pytest.fixture
def mailbox(rt: Runtime) -> Iterator[Mailbox]:
    with smtp_server() as (box, port):
        rt.notifier = SmtpNotifier("127.0.0.1", port, "anxin@test.anxin", timeout=5)
        yield box


def token_in(body: str) -> str:
    found = re.search(r"https?://\S+/invite/([^\s?]+)", body)
    assert found, body
    return found.group(1)


def invite(
    client: TestClient,
    headers: dict[str, str],
    elder_id: int,
    email: str,
    relation: str = "son",
    lang: str = "en",
) -> int:
    resp = client.post(
        f"/api/elders/{elder_id}/invitations",
        headers=headers,
        json={"email": email, "relation": relation, "lang": lang},
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def test_invite_email_accept_and_see_the_elder(
    client: TestClient, world: World, mailbox: Mailbox, rt: Runtime
) -> None:
    daughter = bearer(client, world.family_a.email)
    invite(client, daughter, world.elder_a.id, "Brother@Example.org", "son", "zh")
    [mail] = mailbox.wait(1)
    assert mail["To"] == "brother@example.org"
    assert f"{world.family_a.name}邀请您在安心上关注王秀英" == mail["Subject"]
    token = token_in(mail.get_content())
    family = client.get(f"/api/elders/{world.elder_a.id}/family", headers=daughter).json()
    assert [i["email"] for i in family["invitations"]] == ["brother@example.org"]

    page = client.get(f"/invite/{token}?lang=en", headers=HTML)
    assert page.status_code == 200
    assert f"{world.family_a.name} invites you to follow 王秀英 on Anxin" in page.text
    assert "You are invited as: Son" in page.text
    form = {"name": "王强", "password": NEW, "repeat": NEW + "?", "lang": "zh"}
    mismatch = client.post(f"/invite/{token}?lang=en", data=form, headers=HTML)
    assert mismatch.status_code == 400 and "not the same" in mismatch.text
    assert 'value="王强"' in mismatch.text
    done = client.post(f"/invite/{token}", data={**form, "repeat": NEW}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/family"
    home = client.get("/family", headers=HTML)
    assert home.status_code == 200 and "王秀英" in home.text
    assert world.elder_b.name not in home.text
    with rt.db.session() as db:
        user = db.scalars(select(User).where(User.email == "brother@example.org")).one()
        assert (user.role, user.lang, user.name) == (Role.FAMILY, Lang.ZH, "王强")
        link_row = db.scalars(select(CareLink).where(CareLink.user_id == user.id)).one()
        assert (link_row.elder_id, link_row.relation) == (world.elder_a.id, "son")
    again = client.get(f"/invite/{token}?lang=en", headers=HTML)
    assert again.status_code == 410 and "already been used" in again.text
    family = client.get(f"/api/elders/{world.elder_a.id}/family", headers=daughter).json()
    assert family["invitations"] == []
    assert {m["email"] for m in family["members"]} == {world.family_a.email, "brother@example.org"}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_invite_and_see_the_family(client: TestClient, world: World, role: str) -> None:
    headers = bearer(client, world.user(role).email)
    expected = {
        "family_a": 201,
        "operator_a": 201,
        "admin": 201,
        "doctor_a": 403,
        "family_b": 404,
        "doctor_b": 404,
        "operator_b": 404,
    }[role]
    resp = client.post(
        f"/api/elders/{world.elder_a.id}/invitations",
        headers=headers,
        json={"email": f"x-{role}@example.org", "relation": "son"},
    )
    assert resp.status_code == expected, resp.text
    listed = client.get(f"/api/elders/{world.elder_a.id}/family", headers=headers)
    assert listed.status_code == (200 if expected == 201 else expected)
    page = client.get(f"/elders/{world.elder_a.id}/family", headers={**HTML, **headers})
    assert page.status_code in (200, 303, 403, 404)


@pytest.mark.parametrize("role", ROLES)
def test_family_page_by_role(client: TestClient, world: World, role: str) -> None:
    form = {"email": world.user(role).email, "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    resp = client.get(f"/elders/{world.elder_a.id}/family?lang=en", headers=HTML)
    expected = {"family_a": 200, "operator_a": 200, "admin": 200, "doctor_a": 403}.get(role, 404)
    assert resp.status_code == expected
    if expected == 200:
        assert "Family of 王秀英" in resp.text and world.family_a.name in resp.text


def test_withdraw_makes_the_link_stop_working(
    client: TestClient, world: World, mailbox: Mailbox
) -> None:
    operator = bearer(client, world.operator_a.email)
    invitation_id = invite(client, operator, world.elder_a.id, "cousin@example.org")
    token = token_in(mailbox.wait(1)[0].get_content())
    other = bearer(client, world.operator_b.email)
    assert client.delete(f"/api/invitations/{invitation_id}", headers=other).status_code == 404
    assert client.delete(f"/api/invitations/{invitation_id}", headers=operator).status_code == 204
    page = client.get(f"/invite/{token}?lang=en", headers=HTML)
    assert page.status_code == 404 and "withdrawn" in page.text
    assert client.delete(f"/api/invitations/{invitation_id}", headers=operator).status_code == 404


def test_accept_with_an_existing_family_account(
    client: TestClient, world: World, mailbox: Mailbox, rt: Runtime
) -> None:
    invite(
        client,
        bearer(client, world.family_a.email),
        world.elder_a.id,
        world.family_b.email,
        "grandchild",
    )
    token = token_in(mailbox.wait(1)[0].get_content())
    anonymous = client.get(f"/invite/{token}?lang=en", headers=HTML)
    assert anonymous.status_code == 200
    assert f'href="/login?next=/invite/{token}"' in anonymous.text
    assert 'name="password"' not in anonymous.text
    form = {"email": world.family_b.email, "password": PASSWORD, "next": f"/invite/{token}"}
    logged_in = client.post("/login", data=form, follow_redirects=False)
    assert logged_in.headers["location"] == f"/invite/{token}"
    page = client.get(f"/invite/{token}?lang=en", headers=HTML)
    assert "Accept the invitation" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    done = client.post(f"/invite/{token}", data={"csrf": csrf.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/family"
    home = client.get("/family", headers=HTML).text
    assert "王秀英" in home and world.elder_b.name in home


def test_staff_address_and_refusals(
    client: TestClient, world: World, mailbox: Mailbox, rt: Runtime
) -> None:
    admin = bearer(client, world.admin.email)
    staff = client.post(
        f"/api/elders/{world.elder_a.id}/invitations",
        headers=admin,
        json={"email": world.doctor_b.email, "relation": "son"},
    )
    assert staff.status_code == 409 and "staff account" in staff.json()["detail"]
    member = client.post(
        f"/api/elders/{world.elder_a.id}/invitations",
        headers=admin,
        json={"email": world.family_a.email, "relation": "son"},
    )
    assert member.status_code == 409

    invite(client, admin, world.elder_a.id, "late@example.org")
    invite(client, admin, world.elder_a.id, "soon-staff@example.org")
    invite(client, admin, world.elder_b.id, "gone@example.org")
    mails = mailbox.wait(3)
    late, soon_staff, gone = (token_in(m.get_content()) for m in mails)
    with rt.db.session() as db:
        db.scalars(
            select(OneTimeLink).where(OneTimeLink.email == "late@example.org")
        ).one().expires_at = utcnow() - timedelta(seconds=1)
        make_user(db, Role.DOCTOR, email="soon-staff@example.org")
        elder = db.get(Elder, world.elder_b.id)
        assert elder is not None
        elder.is_active = False
    tampered = late[:-1] + ("0" if late[-1] != "0" else "1")
    cases = [
        (late, 410, "has expired"),
        (tampered, 400, "damaged"),
        (soon_staff, 409, "cannot join a family"),
        (gone, 410, "no longer active"),
    ]
    form = {"name": "Someone", "password": NEW, "repeat": NEW, "lang": "en"}
    for token, status, message in cases:
        for resp in (
            client.get(f"/invite/{token}?lang=en", headers=HTML),
            client.post(f"/invite/{token}?lang=en", data=form, headers=HTML),
        ):
            assert resp.status_code == status, (token, resp.text)
            assert message in resp.text
    with rt.db.session() as db:
        assert db.scalar(select(func.count(User.id)).where(User.name == "Someone")) == 0


def test_leaving_and_the_last_link(client: TestClient, world: World, rt: Runtime) -> None:
    with rt.db.session() as db:
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None
        brother = make_user(db, Role.FAMILY)
        link(db, brother, elder, "son")
        brother_email = brother.email
    daughter = bearer(client, world.family_a.email)
    son = bearer(client, brother_email)
    assert (
        client.delete(f"/api/elders/{world.elder_a.id}/family/me", headers=son).status_code == 204
    )
    last = client.delete(f"/api/elders/{world.elder_a.id}/family/me", headers=daughter)
    assert last.status_code == 409 and "last family member" in last.json()["detail"]
    # the page says so too
    form = {"email": world.family_a.email, "password": PASSWORD}
    client.post("/login", data=form)
    page = client.get(f"/elders/{world.elder_a.id}/family?lang=en", headers=HTML)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    refused = client.post(
        f"/elders/{world.elder_a.id}/family/leave?lang=en",
        data={"csrf": csrf.group(1)},
        headers=HTML,
    )
    assert refused.status_code == 409
    assert "You are the last family member linked to 王秀英" in refused.text
    # a family member cannot remove another; the operator of the area can remove the last one
    assert (
        client.delete(
            f"/api/elders/{world.elder_a.id}/family/{world.family_a.id}",
            headers=bearer(client, world.family_b.email),
        ).status_code
        == 404
    )
    operator = bearer(client, world.operator_a.email)
    assert (
        client.delete(
            f"/api/elders/{world.elder_a.id}/family/{world.family_a.id}", headers=operator
        ).status_code
        == 204
    )
    assert client.get(f"/api/elders/{world.elder_a.id}", headers=daughter).status_code == 404


def test_two_last_members_leaving_at_once_leave_one(rt: Runtime, world: World) -> None:
    with rt.db.session() as db:
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None
        brother = make_user(db, Role.FAMILY)
        link(db, brother, elder, "son")
    people = [world.family_a, brother]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def leave(person: User) -> None:
        start.wait()
        try:
            with rt.db.session() as db:
                actor = db.get(User, person.id)
                elder = db.get(Elder, world.elder_a.id)
                assert actor is not None and elder is not None
                remove_member(db, actor, elder, actor.id)
            outcomes.append("left")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=leave, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["left", "refused"]
    with rt.db.session() as db:
        count = db.scalar(
            select(func.count(CareLink.id)).where(CareLink.elder_id == world.elder_a.id)
        )
        assert count == 1


def test_family_home_links_to_the_family_page(client: TestClient, world: World) -> None:
    client.post("/login", data={"email": world.family_a.email, "password": PASSWORD})
    home = client.get("/family?lang=en", headers=HTML)
    assert f'href="/elders/{world.elder_a.id}/family"' in home.text

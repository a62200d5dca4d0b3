"""The elder calls the family through the real app's sockets: only linked family rings, the
first answer wins and the others stop ringing, declines and timeouts become a missed call
with an e-mail (real local SMTP), and another elder's family is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from protocol import (
    CallAccept,
    CallAnswer,
    CallDecline,
    CallEnded,
    CallEndReason,
    CallHangUp,
    CallIncoming,
    CallInvite,
    CallOffer,
    CallPickedUp,
    CallRole,
    CallStart,
    Changed,
    ClientKind,
    Error,
    ErrorCode,
    FamilyCallRequest,
    FamilyCallRinging,
    Hello,
    Lang,
    Role,
    Topic,
    Welcome,
)
from server.calls.config import call_settings
from server.calls.elder_call import stale_ring_sweep
from server.models import Call, CareLink, Elder, User, utcnow
from server.notify import SmtpNotifier
from server.runtime import Runtime
from tests.server.test_box_socket import pair_box, recv, send
from tests.server.test_calls import OFFER, box, next_of, nothing_pending, page, page_login
from tests.support.smtp import Mailbox, smtp_server
from tests.support.world import World, link, make_user


@pytest.fixture(autouse=True)
def fresh_call_settings() -> Iterator[None]:
    call_settings.cache_clear()
    yield
    call_settings.cache_clear()


@pytest.fixture
def mailbox(rt: Runtime) -> Iterator[Mailbox]:
    """Missed-call e-mail goes to a real SMTP server on loopback."""
    with smtp_server() as (box_of_mail, port):
        rt.notifier = SmtpNotifier("127.0.0.1", port, "anxin@test.anxin", timeout=5)
        yield box_of_mail


@pytest.fixture
def brother(rt: Runtime, world: World) -> User:
    """A second family member linked to elder A, who reads Chinese."""
    with rt.db.session() as db:
        user = make_user(db, Role.FAMILY, name="王强", lang=Lang.ZH)
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None
        link(db, user, elder, "son")
        return user


def short_ring(monkeypatch: pytest.MonkeyPatch, seconds: str) -> None:
    monkeypatch.setenv("ANXIN_CALL_RING_TIMEOUT_SECONDS", seconds)
    call_settings.cache_clear()


def test_rings_only_linked_family_and_the_first_answer_wins(
    client: TestClient, world: World, brother: User, mailbox: Mailbox
) -> None:
    token, device_id = pair_box(client, world)
    with (
        page(client, world.family_a.email) as daughter,
        page(client, brother.email) as son,
        page(client, world.family_b.email) as other_family,
        page(client, world.doctor_a.email) as doctor,
        page(client, world.operator_a.email) as operator,
        box(client, token) as tv,
    ):
        send(tv, FamilyCallRequest(id="family"))
        rung = next_of(tv, FamilyCallRinging)
        assert rung.rung == 2 and rung.timeout_s == 45.0  # the default ring timeout
        for family in (daughter, son):
            incoming = next_of(family, CallIncoming)
            assert incoming.call_id == rung.call_id
            assert incoming.elder_id == world.elder_a.id and incoming.elder_name == "王秀英"
        for outsider in (other_family, doctor, operator):
            nothing_pending(outsider)  # nobody else hears the elder's call

        # Another elder's family cannot take the call by its id; the socket stays open.
        send(other_family, CallAccept(call_id=rung.call_id, id="steal"))
        refused = next_of(other_family, Error)
        assert refused.code is ErrorCode.NOT_FOUND and refused.ref == "steal"
        send(other_family, CallDecline(call_id=rung.call_id, id="meddle"))
        assert next_of(other_family, Error).code is ErrorCode.NOT_FOUND
        send(doctor, CallAccept(call_id=rung.call_id, id="doc"))
        assert next_of(doctor, Error).code is ErrorCode.NOT_FOUND
        nothing_pending(other_family)

        # The son answers first: the call is his; the daughter's banner is told who answered.
        send(son, CallAccept(call_id=rung.call_id, id="answer"))
        start = next_of(son, CallStart)
        assert start.role is CallRole.OFFERER and start.peer_name == "王秀英"
        box_start = next_of(tv, CallStart)
        assert box_start.role is CallRole.ANSWERER and box_start.peer_name == "王强"
        picked = next_of(daughter, CallPickedUp)
        assert picked.call_id == rung.call_id and picked.by == "王强"
        send(daughter, CallAccept(call_id=rung.call_id, id="late"))
        late = next_of(daughter, Error)
        assert late.code is ErrorCode.CONFLICT and "王强" in late.message and late.ref == "late"

        # The same signaling as every call, relayed only between the two parties.
        send(son, CallOffer(call_id=rung.call_id, sdp=OFFER))
        assert next_of(tv, CallOffer).sdp == OFFER
        send(tv, CallAnswer(call_id=rung.call_id, sdp=OFFER))
        assert next_of(son, CallAnswer).call_id == rung.call_id
        send(daughter, CallOffer(call_id=rung.call_id, sdp=OFFER, id="x"))
        assert next_of(daughter, Error).code is ErrorCode.NOT_FOUND
        nothing_pending(daughter)

        send(tv, CallHangUp(call_id=rung.call_id))
        assert next_of(son, CallEnded).reason is CallEndReason.HUNG_UP
        nothing_pending(other_family)
    assert mailbox.messages == []  # an answered call is not a missed call

    headers = {"accept": "text/html"}
    page_login(client, world.family_a.email)
    assert 'id="missed-call-' not in client.get("/family", headers=headers).text
    assert device_id


def test_unanswered_call_times_out_into_a_missed_call_and_e_mail(
    client: TestClient,
    world: World,
    brother: User,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short_ring(monkeypatch, "0.5")
    token, _ = pair_box(client, world)
    with page(client, world.family_a.email) as daughter, box(client, token) as tv:
        send(tv, FamilyCallRequest(id="family"))
        rung = next_of(tv, FamilyCallRinging)
        assert rung.rung == 1  # the son has no page open
        next_of(daughter, CallIncoming)
        ended = next_of(tv, CallEnded)  # nobody answered within the ring timeout
        assert ended.call_id == rung.call_id and ended.reason is CallEndReason.UNANSWERED
        assert next_of(daughter, CallEnded).reason is CallEndReason.UNANSWERED
        changed = next_of(daughter, Changed)
        assert changed.topic is Topic.CALL and changed.elder_id == world.elder_a.id

    mails = {m["To"]: m for m in mailbox.wait(2)}
    assert set(mails) == {world.family_a.email, brother.email}  # everyone linked is told
    assert mails[world.family_a.email]["Subject"] == "Missed video call from 王秀英"
    assert "call back" in mails[world.family_a.email].get_content()
    assert mails[brother.email]["Subject"] == "王秀英 给您打过视频电话（未接）"

    page_login(client, world.family_a.email)
    family_page = client.get("/family", headers={"accept": "text/html"}).text
    assert f'id="missed-call-{rung.call_id}"' in family_page
    assert "Missed call from 王秀英" in family_page
    page_login(client, world.family_b.email)
    other = client.get("/family", headers={"accept": "text/html"}).text
    assert 'id="missed-call-' not in other  # another family never sees it


def test_declined_by_everyone_rung_is_a_missed_call_at_once(
    client: TestClient, world: World, brother: User, mailbox: Mailbox
) -> None:
    token, _ = pair_box(client, world)
    with (
        page(client, world.family_a.email) as daughter,
        page(client, brother.email) as son,
        box(client, token) as tv,
    ):
        send(tv, FamilyCallRequest(id="family"))
        call_id = next_of(tv, FamilyCallRinging).call_id
        send(daughter, CallDecline(call_id=call_id))
        nothing_pending(tv)  # the son may still answer
        send(son, CallDecline(call_id=call_id))
        assert next_of(tv, CallEnded).reason is CallEndReason.UNANSWERED
        assert next_of(daughter, CallEnded).call_id == call_id
        send(son, CallAccept(call_id=call_id, id="too-late"))
        assert next_of(son, Error).code is ErrorCode.CONFLICT
    assert len(mailbox.wait(2)) == 2


def test_nobody_online_ends_at_once_and_the_box_can_cancel(
    client: TestClient, world: World, mailbox: Mailbox
) -> None:
    token, _ = pair_box(client, world)
    with box(client, token) as tv:
        send(tv, FamilyCallRequest(id="family"))
        rung = next_of(tv, FamilyCallRinging)
        assert rung.rung == 0
        assert next_of(tv, CallEnded).reason is CallEndReason.UNANSWERED
        [mail] = mailbox.wait(1)
        assert mail["To"] == world.family_a.email

        with page(client, world.family_a.email) as daughter:
            send(tv, FamilyCallRequest(id="family"))
            call_id = next_of(tv, FamilyCallRinging).call_id
            next_of(daughter, CallIncoming)
            # A family page opened now still shows the call ringing; another family's does not.
            page_login(client, world.family_a.email)
            html = client.get("/family", headers={"accept": "text/html"}).text
            assert f'data-ringing-call="{call_id}"' in html
            page_login(client, world.family_b.email)
            html = client.get("/family", headers={"accept": "text/html"}).text
            assert "data-ringing-call" not in html
            # A family member cannot ring the TV while the elder is calling out.
            send(daughter, CallInvite(elder_id=world.elder_a.id, id="invite"))
            assert next_of(daughter, Error).code is ErrorCode.CONFLICT
            send(tv, FamilyCallRequest(id="again"))
            assert next_of(tv, Error).code is ErrorCode.CONFLICT
            # The box may not answer its own call.
            send(tv, CallAccept(call_id=call_id, id="self"))
            assert next_of(tv, Error).code is ErrorCode.CONFLICT
            send(tv, CallHangUp(call_id=call_id, reason=CallEndReason.CANCELLED))
            assert next_of(daughter, CallEnded).reason is CallEndReason.CANCELLED
            assert next_of(tv, CallEnded).reason is CallEndReason.CANCELLED
    assert len(mailbox.messages) == 1  # the elder cancelled: not a missed call


def test_nobody_linked_and_an_unpaired_box_are_refused(
    client: TestClient, world: World, rt: Runtime
) -> None:
    token, _ = pair_box(client, world)
    with rt.db.session() as db:
        db.execute(delete(CareLink).where(CareLink.elder_id == world.elder_a.id))
    with box(client, token) as tv:
        send(tv, FamilyCallRequest(id="family"))
        refused = next_of(tv, Error)
        assert refused.code is ErrorCode.NOT_FOUND and refused.ref == "family"
        nothing_pending(tv)  # the socket stays open

    req = client.post("/api/pairing/requests", json={"app_version": "0.1.0"}).json()
    with client.websocket_connect("/ws/box") as unpaired:
        send(unpaired, Hello(client=ClientKind.BOX, pairing_secret=req["pairing_secret"]))
        assert isinstance(recv(unpaired), Welcome)
        send(unpaired, FamilyCallRequest(id="family"))
        error = recv(unpaired)
        assert isinstance(error, Error) and error.code is ErrorCode.UNAUTHORIZED


def test_a_call_left_ringing_by_a_lost_timer_is_ended_by_the_sweep(
    client: TestClient, world: World, rt: Runtime, mailbox: Mailbox
) -> None:
    """A server restart loses the ring timer: the periodic sweep still ends the call, so the
    TV is not left busy, and the family hears of the missed call once."""
    token, _ = pair_box(client, world)
    with page(client, world.family_a.email) as daughter, box(client, token) as tv:
        send(tv, FamilyCallRequest(id="family"))
        call_id = next_of(tv, FamilyCallRinging).call_id
        next_of(daughter, CallIncoming)
        with rt.db.session() as db:  # as if it had rung for two minutes with no timer
            db.execute(
                update(Call)
                .where(Call.id == call_id)
                .values(requested_at=utcnow() - timedelta(minutes=2))
            )
        stale_ring_sweep(rt)
        stale_ring_sweep(rt)  # a second sweep (or process) finds nothing left to do
        assert next_of(tv, CallEnded).reason is CallEndReason.UNANSWERED
        assert next_of(daughter, CallEnded).call_id == call_id
        send(tv, FamilyCallRequest(id="family"))  # the TV is free again
        assert next_of(tv, FamilyCallRinging).call_id != call_id
    assert len(mailbox.wait(1)) == 1


def test_a_box_that_goes_away_stops_the_family_ringing(
    client: TestClient, world: World, mailbox: Mailbox
) -> None:
    token, _ = pair_box(client, world)
    with page(client, world.family_a.email) as daughter:
        with box(client, token) as tv:
            send(tv, FamilyCallRequest(id="family"))
            call_id = next_of(tv, FamilyCallRinging).call_id
            next_of(daughter, CallIncoming)
        ended = next_of(daughter, CallEnded)  # the TV's socket closed
        assert ended.call_id == call_id and ended.reason is CallEndReason.CONNECTION_LOST
        send(daughter, CallAccept(call_id=call_id, id="late"))
        assert next_of(daughter, Error).code is ErrorCode.CONFLICT
    assert mailbox.messages == []  # not a missed call: the TV said it was not connected

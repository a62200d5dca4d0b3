"""The elder calls the family from the TV: ring every linked family member's open pages,
the first to answer gets the call, and a call nobody answers becomes a missed call.

The call is a `Call` of kind family with ``from_elder`` set; once a family member answers it
is an ordinary call between the box and that user, so offer/answer relay, hang-up and media
go through `server.calls.store` / `server.calls.signaling` unchanged (the page offers, the
box answers, as when the family calls the box). Who was rung is kept in `CallRing` rows, so
"declined by everyone rung" needs no process memory; the ring timeout is a task per call,
like the family→box ring timeout, and ending is an atomic update, so a missed call is
announced (and e-mailed) exactly once whichever of timeout, declines or nobody-online ends it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from protocol import (
    CallAccept,
    CallDecline,
    CallEndReason,
    CallIncoming,
    CallKind,
    CallPickedUp,
    FamilyCallRequest,
    FamilyCallRinging,
    Role,
    Topic,
)
from server import audit
from server.calls import store
from server.calls.config import call_settings
from server.calls.signaling import deliver
from server.calls.store import Sends
from server.core.db import Database
from server.errors import Conflict, NotFound
from server.models import (
    Call,
    CallRing,
    CallStatus,
    CareLink,
    Elder,
    User,
    utcnow,
)
from server.notify import Email
from server.outgoing import deliver as send_queued
from server.outgoing import queue_email
from server.push import push_change
from server.runtime import Runtime
from server.web.i18n import translate
from server.web.when import local, zone_name_words
from server.ws.connection import Connection

log = logging.getLogger(__name__)


@dataclass
class Placed:
    """An elder's call just placed: what to send, and how many family members it rang."""

    sends: Sends
    call_id: int
    rung: int


@dataclass
class Missed:
    """An elder's call that ended unanswered: the endings to send and whom to tell."""

    sends: Sends
    elder_id: int
    family_ids: set[int]
    mail_ids: list[int] = field(default_factory=list)  # queued in `server.outgoing`


def _family(db: Session, elder_id: int) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .join(CareLink, CareLink.user_id == User.id)
            .where(
                CareLink.elder_id == elder_id,
                User.role == Role.FAMILY,
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def _linked(db: Session, user: User, elder_id: int) -> bool:
    return user.role is Role.FAMILY and bool(
        db.scalar(
            select(exists().where(CareLink.user_id == user.id, CareLink.elder_id == elder_id))
        )
    )


def _elder_call_for(
    db: Session, user_id: int, call_id: int, lock: bool = False
) -> tuple[Call, User]:
    """The elder's call, if ``user_id`` is linked family of that elder; NotFound otherwise.

    ``lock`` holds the call's row until the transaction ends (PostgreSQL; SQLite writes are
    serialised anyway), so answers and declines of one call are decided one after another.
    """
    call = db.get(Call, call_id, with_for_update=lock)
    user = db.get(User, user_id)
    if call is None or user is None or not call.from_elder or not _linked(db, user, call.elder_id):
        raise NotFound(f"no call {call_id} of yours")
    return call, user


def place_call(db_: Database, online: Callable[[int], bool], device_id: int) -> Placed:
    """The box asks to call the family: ring every linked family member who has a page open."""
    settings = call_settings()
    with db_.session() as db:
        device, elder = store.paired_elder(db, device_id)
        if store.live_call_of_device(db, device_id) is not None:
            raise Conflict("a call is already going on on this TV")
        family = _family(db, elder.id)
        if not family:
            raise NotFound("nobody in the family is linked to this TV yet")
        call = Call(
            kind=CallKind.FAMILY,
            status=CallStatus.RINGING,
            elder_id=elder.id,
            device_id=device_id,
            from_elder=True,
        )
        db.add(call)
        db.flush()
        rung = [u for u in family if online(u.id)]
        db.add_all(CallRing(call_id=call.id, user_id=u.id) for u in rung)
        audit.record(
            db, "call.family_rung", elder.id, device=device, detail=f"{call.id}:{len(rung)}"
        )
        timeout = settings.ring_timeout_seconds
        incoming = CallIncoming(
            call_id=call.id, elder_id=elder.id, elder_name=elder.name, timeout_s=timeout
        )
        sends = Sends(
            call_id=call.id,
            to_devices=[
                (device_id, FamilyCallRinging(call_id=call.id, rung=len(rung), timeout_s=timeout))
            ],
            to_users=[(u.id, incoming) for u in rung],
        )
        return Placed(sends=sends, call_id=call.id, rung=len(rung))


def pick_up(db_: Database, user_id: int, call_id: int) -> Sends:
    """A family member answers: the first one wins (atomic claim), the others stop ringing."""
    with db_.session() as db:
        call, user = _elder_call_for(db, user_id, call_id)
        claimed = db.execute(
            update(Call)
            .where(Call.id == call.id, Call.status == CallStatus.RINGING)
            .values(status=CallStatus.ACTIVE, user_id=user.id, answered_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        db.refresh(call)
        if claimed != 1:
            taker = db.get(User, call.user_id) if call.user_id is not None else None
            if call.status is CallStatus.ACTIVE and taker is not None:
                raise Conflict(f"{taker.name} has already answered")
            raise Conflict("this call is no longer ringing")
        elder = db.get(Elder, call.elder_id)
        assert elder is not None
        audit.record(db, "call.family_answered", elder.id, user=user, detail=str(call.id))
        sends = Sends(call_id=call.id)
        store.start_messages(db, call, user, elder, sends)
        picked = CallPickedUp(call_id=call.id, by=user.name)
        sends.to_users.extend((u.id, picked) for u in _family(db, elder.id))
        return sends


def decline(db_: Database, user_id: int, call_id: int) -> bool:
    """A family member declines; True when everyone rung has now declined."""
    with db_.session() as db:
        call, user = _elder_call_for(db, user_id, call_id, lock=True)
        if call.status is not CallStatus.RINGING:
            raise Conflict("this call is no longer ringing")
        ring = db.scalar(
            select(CallRing).where(CallRing.call_id == call.id, CallRing.user_id == user.id)
        )
        if ring is None:  # a page opened after the call began
            ring = CallRing(call_id=call.id, user_id=user.id)
            db.add(ring)
        ring.declined_at = utcnow()
        db.flush()
        audit.record(db, "call.family_declined", call.elder_id, user=user, detail=str(call.id))
        # The call's row is locked: the last of two racing declines sees the first one.
        waiting = db.scalar(
            select(exists().where(CallRing.call_id == call.id, CallRing.declined_at.is_(None)))
        )
        return not waiting


def _missed_email(user: User, elder: Elder, call: Call) -> Email:
    """The missed-call e-mail in the reader's language, the time in the elder's zone, named."""
    moment = local(call.requested_at, elder.timezone)
    values = {
        "name": elder.name,
        "time": moment.strftime("%H:%M"),
        "date": moment.strftime("%Y-%m-%d"),
        "zone": zone_name_words(user.lang, elder.timezone),
    }
    body = translate(user.lang, "calls.mail.missed_body", **values)
    body += "\n" + translate(user.lang, "msg.signature")
    subject = translate(user.lang, "calls.mail.missed_subject", **values)
    return Email(to=user.email, subject=subject, body=body)


def end_unanswered(db_: Database, call_id: int) -> Missed | None:
    """End a still-ringing elder's call as unanswered; None if it already ended otherwise."""
    sends = store.end_if_live(db_, call_id, (CallStatus.RINGING,), CallEndReason.UNANSWERED)
    if sends is None:
        return None
    with db_.session() as db:
        call = db.get(Call, call_id)
        assert call is not None
        elder = db.get(Elder, call.elder_id)
        assert elder is not None
        family = _family(db, elder.id)
        # No missed-call setting exists yet: every linked family member is told.
        mail_ids = [
            queue_email(db, _missed_email(u, elder, call), f"call-missed:{call_id}:{u.id}")
            for u in family
            if u.email
        ]
        return Missed(sends, elder.id, {u.id for u in family}, mail_ids)


def missed_calls(db: Session, elder_ids: list[int], limit: int = 10) -> list[tuple[Call, Elder]]:
    """The latest unanswered calls these elders made to their family, newest first."""
    if not elder_ids:
        return []
    rows = db.execute(
        select(Call, Elder)
        .join(Elder, Elder.id == Call.elder_id)
        .where(
            Call.elder_id.in_(elder_ids),
            Call.from_elder.is_(True),
            Call.end_reason == CallEndReason.UNANSWERED,
        )
        .order_by(Call.requested_at.desc(), Call.id.desc())
        .limit(limit)
    ).all()
    return [(call, elder) for call, elder in rows]


def unreturned_missed_calls(
    db: Session, elder_ids: list[int], since: datetime
) -> list[tuple[Call, Elder]]:
    """Per elder, the latest call to the family since ``since`` that nobody answered and that
    no later answered call (either way) has made up for: the family should call back."""
    out = []
    seen: set[int] = set()
    for call, elder in missed_calls(db, elder_ids):
        if elder.id in seen or call.requested_at < since:
            continue
        seen.add(elder.id)
        answered_later = db.scalar(
            select(Call.id)
            .where(
                Call.elder_id == elder.id,
                Call.requested_at > call.requested_at,
                Call.answered_at.is_not(None),
            )
            .limit(1)
        )
        if answered_later is None:
            out.append((call, elder))
    return out


def stale_ringing(db_: Database, older_than: timedelta) -> list[int]:
    """Elder's calls still ringing long after their timeout (a restarted server lost the
    timer; another process owned it)."""
    with db_.session() as db:
        return list(
            db.scalars(
                select(Call.id).where(
                    Call.from_elder.is_(True),
                    Call.status == CallStatus.RINGING,
                    Call.requested_at < utcnow() - older_than,
                )
            )
        )


def ringing_calls_of_device(db_: Database, device_id: int) -> list[int]:
    """The box's own calls to the family that are still ringing."""
    with db_.session() as db:
        return list(
            db.scalars(
                select(Call.id).where(
                    Call.device_id == device_id,
                    Call.from_elder.is_(True),
                    Call.status == CallStatus.RINGING,
                )
            )
        )


# -- sockets ---------------------------------------------------------------------


async def _announce_missed(rt: Runtime, missed: Missed, call_id: int) -> None:
    await deliver(rt, missed.sends)
    data = {"call_id": call_id, "missed": True}
    await push_change(rt.hub, Topic.CALL, missed.elder_id, data, missed.family_ids)


async def _unanswered(rt: Runtime, call_id: int) -> None:
    missed = await run_in_threadpool(end_unanswered, rt.db, call_id)
    if missed is None:
        return
    await _announce_missed(rt, missed, call_id)
    await run_in_threadpool(send_queued, rt, missed.mail_ids)


def stale_ring_sweep(rt: Runtime) -> str | None:
    """Backstop for the ring timer: end elder's calls ringing well past their timeout, so a
    TV is never left "busy" by a server restart (each call is ended, and e-mailed, once)."""
    grace = timedelta(seconds=call_settings().ring_timeout_seconds + 15)
    ended = 0
    for call_id in stale_ringing(rt.db, grace):
        missed = end_unanswered(rt.db, call_id)
        if missed is not None:
            ended += 1
            rt.hub.push(_announce_missed(rt, missed, call_id))
            send_queued(rt, missed.mail_ids)
    return f"{ended} calls left ringing ended as missed" if ended else None


async def _ring_timeout(rt: Runtime, call_id: int) -> None:
    await asyncio.sleep(call_settings().ring_timeout_seconds)
    await _unanswered(rt, call_id)


async def family_call(conn: Connection, rt: Runtime, message: FamilyCallRequest) -> None:
    """The elder calls the family: ring every linked member's open page."""
    assert conn.device_id is not None
    placed = await run_in_threadpool(place_call, rt.db, rt.hub.user_connected, conn.device_id)
    await deliver(rt, placed.sends)
    if placed.rung == 0:
        await _unanswered(rt, placed.call_id)  # nobody online: tell the TV and the family now
    else:
        rt.hub.track(asyncio.ensure_future(_ring_timeout(rt, placed.call_id)))


async def box_gone(device_id: int, rt: Runtime) -> None:
    """End the calls still ringing on a box that went offline."""
    # The TV gave up when its link dropped; nobody must answer a call to nowhere.
    for call_id in await run_in_threadpool(ringing_calls_of_device, rt.db, device_id):
        sends = await run_in_threadpool(
            store.end_if_live,
            rt.db,
            call_id,
            (CallStatus.RINGING,),
            CallEndReason.CONNECTION_LOST,
        )
        if sends is not None:
            await deliver(rt, sends)


async def answer(conn: Connection, rt: Runtime, message: CallAccept) -> None:
    """A family member picks up the elder's call."""
    assert conn.user_id is not None
    await deliver(rt, await run_in_threadpool(pick_up, rt.db, conn.user_id, message.call_id))


async def decline_call(conn: Connection, rt: Runtime, message: CallDecline) -> None:
    """A family member declines the elder's call."""
    assert conn.user_id is not None
    if await run_in_threadpool(decline, rt.db, conn.user_id, message.call_id):
        await _unanswered(rt, message.call_id)

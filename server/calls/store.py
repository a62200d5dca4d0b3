"""Call records in the database: every state change of a call, and who may touch it.

Functions here are synchronous (they run in the thread pool) and return plain "plans" —
which messages go to which box or users — that `server.calls.signaling` then sends.
A party is a box (``device_id``) or a logged-in user (``user_id``); a party that is not
in the call gets `NotFound`, so a stranger learns nothing, not even that the call exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from protocol import (
    CallEnded,
    CallEndReason,
    CallKind,
    CallQueued,
    CallRinging,
    CallRole,
    CallStart,
    ConsultQueue,
    QueueEntry,
    Role,
)
from server import audit
from server.calls.config import CallSettings, call_settings, ice_servers_for
from server.core.db import Database
from server.errors import Conflict, Forbidden, NotFound
from server.models import (
    LIVE_STATUSES,
    Call,
    CallPreference,
    CallRing,
    CallStatus,
    Device,
    Elder,
    User,
    utcnow,
)
from server.permissions import can_see_elder, elder_for_viewing


@dataclass(frozen=True)
class Party:
    """Who sent a call message: a paired box or a logged-in user."""

    device_id: int | None = None
    user_id: int | None = None

    @property
    def label(self) -> str:
        """Short name for logs, records and TURN user ids (no ':')."""
        return f"box-{self.device_id}" if self.device_id is not None else f"user-{self.user_id}"


@dataclass
class QueuePush:
    """The doctors' queue of one clinic and each waiting box's place in it."""

    doctor_ids: set[int]
    queue: ConsultQueue
    boxes: list[tuple[int, CallQueued]]


@dataclass
class Sends:
    """Messages to boxes and users, plus the clinics whose queue changed."""

    to_devices: list[tuple[int, object]] = field(default_factory=list)
    to_users: list[tuple[int, object]] = field(default_factory=list)
    queues: list[QueuePush] = field(default_factory=list)
    call_id: int | None = None


def _age(elder: Elder, now: datetime) -> int | None:
    return None if elder.birth_year is None else now.year - elder.birth_year


def _summary(elder: Elder) -> str:
    first = (elder.care_notes or "").strip().splitlines()
    return first[0][:120] if first else ""


def queue_push(db: Session, clinic_id: int, settings: CallSettings | None = None) -> QueuePush:
    """The current queue of ``clinic_id`` for its doctors, and every waiting box's place."""
    settings = settings or call_settings()
    now = datetime.now(UTC)
    rows = db.execute(
        select(Call, Elder)
        .join(Elder, Elder.id == Call.elder_id)
        .where(Call.kind == CallKind.CONSULT, Call.status == CallStatus.QUEUED)
        .where(Call.clinic_id == clinic_id)
        .order_by(Call.requested_at, Call.id)
    ).all()
    entries = [
        QueueEntry(
            call_id=call.id,
            elder_id=elder.id,
            elder_name=elder.name,
            age=_age(elder, now),
            lang=elder.lang,
            summary=_summary(elder),
            requested_at=call.requested_at,
        )
        for call, elder in rows
    ]
    each_s = settings.consult_minutes_each * 60
    boxes = [
        (
            call.device_id,
            CallQueued(
                call_id=call.id, position=i + 1, expected_wait_s=round(i * each_s + each_s / 2)
            ),
        )
        for i, (call, _elder) in enumerate(rows)
    ]
    doctors = db.scalars(
        select(User.id).where(
            User.role == Role.DOCTOR, User.clinic_id == clinic_id, User.is_active.is_(True)
        )
    ).all()
    return QueuePush(set(doctors), ConsultQueue(entries=entries), boxes)


def live_call_of_device(db: Session, device_id: int) -> Call | None:
    """The call going on (or ringing, or queued) on this TV, if any."""
    return db.scalar(
        select(Call).where(Call.device_id == device_id, Call.status.in_(LIVE_STATUSES))
    )


def paired_elder(db: Session, device_id: int) -> tuple[Device, Elder]:
    """A box that is still paired, and its elder; NotFound for a revoked or unknown box."""
    device = db.get(Device, device_id)
    if device is None or device.revoked_at is not None:
        raise NotFound("no such TV box")
    elder = db.get(Elder, device.elder_id)
    assert elder is not None
    return device, elder


def request_consult(db_: Database, device_id: int) -> Sends:
    """A box asks for a doctor: queue a consult (or report the one already live)."""
    with db_.session() as db:
        device, elder = paired_elder(db, device_id)
        existing = live_call_of_device(db, device_id)
        if existing is not None and existing.kind is not CallKind.CONSULT:
            raise Conflict("a call is already going on on this TV")
        if existing is None:
            if elder.clinic_id is None:
                raise Conflict("this elder has no clinic to call")
            existing = Call(
                kind=CallKind.CONSULT,
                status=CallStatus.QUEUED,
                elder_id=elder.id,
                device_id=device_id,
                clinic_id=elder.clinic_id,
            )
            db.add(existing)
            db.flush()
            audit.record(db, "consult.requested", elder.id, device=device, detail=str(existing.id))
        sends = Sends(call_id=existing.id)
        if existing.status is CallStatus.QUEUED and existing.clinic_id is not None:
            sends.queues.append(queue_push(db, existing.clinic_id))
        return sends


def doctor_queue(db_: Database, user_id: int) -> QueuePush | None:
    """The queue a doctor should see now (None for anyone else)."""
    with db_.session() as db:
        user = db.get(User, user_id)
        if user is None or user.role is not Role.DOCTOR or user.clinic_id is None:
            return None
        push = queue_push(db, user.clinic_id)
        push.doctor_ids = {user_id}
        push.boxes = []
        return push


def start_messages(db: Session, call: Call, user: User, elder: Elder, sends: Sends) -> None:
    """Plan `call_start` for both sides: the user's page offers, the box answers."""
    settings = call_settings()
    common: dict[str, Any] = {
        "call_id": call.id,
        "kind": call.kind,
        "elder_id": elder.id,
        "ice_transport_policy": settings.ice_transport_policy,
    }
    sends.to_devices.append(
        (
            call.device_id,
            CallStart(
                role=CallRole.ANSWERER,
                peer_name=user.name,
                ice_servers=ice_servers_for(f"box-{call.device_id}", settings),
                **common,
            ),
        )
    )
    sends.to_users.append(
        (
            user.id,
            CallStart(
                role=CallRole.OFFERER,
                peer_name=elder.name,
                ice_servers=ice_servers_for(f"user-{user.id}", settings),
                **common,
            ),
        )
    )


def join_consult(db_: Database, user_id: int, call_id: int) -> Sends:
    """A doctor takes a queued consult; exactly one doctor can win (atomic claim)."""
    with db_.session() as db:
        user = db.get(User, user_id)
        call = db.get(Call, call_id)
        if user is None or user.role is not Role.DOCTOR:
            raise Forbidden("only doctors take consult requests")
        if call is None or call.kind is not CallKind.CONSULT or call.clinic_id != user.clinic_id:
            raise NotFound(f"no consult request {call_id} in your queue")
        claimed = db.execute(
            update(Call)
            .where(Call.id == call_id, Call.status == CallStatus.QUEUED)
            .values(status=CallStatus.ACTIVE, user_id=user_id, answered_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        if claimed != 1:
            raise Conflict("another doctor has already taken this request, or it was cancelled")
        db.refresh(call)
        elder = db.get(Elder, call.elder_id)
        assert elder is not None
        audit.record(db, "consult.joined", elder.id, user=user, detail=str(call.id))
        sends = Sends(call_id=call.id)
        start_messages(db, call, user, elder, sends)
        assert call.clinic_id is not None
        sends.queues.append(queue_push(db, call.clinic_id))
        return sends


def may_force_auto_answer(user: User) -> bool:
    """Whether ``user``'s invite may ask the box to answer by itself without the family's
    setting: operators and admins (an SOS responder calling in). Families use the setting."""
    return user.role in (Role.OPERATOR, Role.ADMIN)


def invite(
    db_: Database, online: Callable[[int], bool], user_id: int, elder_id: int, auto: bool
) -> Sends:
    """A family member (or operator) rings the elder's box if ``online(device_id)``."""
    with db_.session() as db:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound("no such user")
        elder = elder_for_viewing(db, user, elder_id)
        if user.role is Role.DOCTOR:
            raise Forbidden("doctors call through consult requests")
        devices = db.scalars(
            select(Device.id).where(Device.elder_id == elder.id, Device.revoked_at.is_(None))
        ).all()
        live = [d for d in devices if online(d)]
        if not live:
            raise Conflict("the elder's TV is not connected right now")
        device_id = live[0]
        if live_call_of_device(db, device_id) is not None:
            raise Conflict("the elder is already in a call")
        pref = db.get(CallPreference, elder.id)
        auto_answer = bool(pref and pref.auto_answer) or (auto and may_force_auto_answer(user))
        call = Call(
            kind=CallKind.FAMILY,
            status=CallStatus.RINGING,
            elder_id=elder.id,
            device_id=device_id,
            user_id=user.id,
            auto_answer=auto_answer,
        )
        db.add(call)
        db.flush()
        audit.record(db, "call.invited", elder.id, user=user, detail=str(call.id))
        ringing = CallRinging(
            call_id=call.id,
            kind=CallKind.FAMILY,
            caller_name=user.name,
            auto_answer=auto_answer,
            auto_answer_after_s=call_settings().auto_answer_after_seconds,
        )
        return Sends(
            to_devices=[(device_id, ringing)], to_users=[(user.id, ringing)], call_id=call.id
        )


def ring_video_visit(
    db_: Database, online: Callable[[int], bool], doctor_id: int, elder_id: int, visit_id: int
) -> Sends:
    """The visit's doctor opens a booked video visit: ring the elder's box (the TV says the
    doctor is ready for the video visit). The caller checked the visit is theirs."""
    with db_.session() as db:
        doctor = db.get(User, doctor_id)
        elder = db.get(Elder, elder_id)
        assert doctor is not None and elder is not None
        devices = db.scalars(
            select(Device.id).where(Device.elder_id == elder.id, Device.revoked_at.is_(None))
        ).all()
        live = [d for d in devices if online(d)]
        if not live:
            raise Conflict("the elder's TV is not connected right now")
        device_id = live[0]
        if live_call_of_device(db, device_id) is not None:
            raise Conflict("the elder is already in a call")
        call = Call(
            kind=CallKind.CONSULT,
            status=CallStatus.RINGING,
            elder_id=elder.id,
            device_id=device_id,
            user_id=doctor.id,
            auto_answer=False,
        )
        db.add(call)
        db.flush()
        audit.record(db, "call.video_visit", elder.id, user=doctor, detail=f"{call.id}:{visit_id}")
        ringing = CallRinging(
            call_id=call.id, kind=CallKind.CONSULT, caller_name=doctor.name, visit_id=visit_id
        )
        return Sends(
            to_devices=[(device_id, ringing)], to_users=[(doctor.id, ringing)], call_id=call.id
        )


def _call_for(db: Session, party: Party, call_id: int) -> Call:
    call = db.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id} of yours")
    if party.device_id is not None and call.device_id == party.device_id:
        return call
    if party.user_id is not None and call.user_id == party.user_id:
        return call
    raise NotFound(f"no call {call_id} of yours")


def accept(db_: Database, device_id: int, call_id: int) -> Sends:
    """The box answered a ringing call: both sides get `call_start`."""
    with db_.session() as db:
        call = _call_for(db, Party(device_id=device_id), call_id)
        if call.from_elder:
            raise Conflict("the elder placed this call; the family answers it")
        claimed = db.execute(
            update(Call)
            .where(Call.id == call.id, Call.status == CallStatus.RINGING)
            .values(status=CallStatus.ACTIVE, answered_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        if claimed != 1:
            raise Conflict("this call is no longer ringing")
        db.refresh(call)
        user = db.get(User, call.user_id)
        elder = db.get(Elder, call.elder_id)
        assert user is not None and elder is not None
        sends = Sends(call_id=call.id)
        start_messages(db, call, user, elder, sends)
        return sends


def end(db_: Database, party: Party, call_id: int, reason: CallEndReason) -> Sends:
    """End a call from either side (cancel while queued, decline while ringing, hang up)."""
    with db_.session() as db:
        call = _call_for(db, party, call_id)
        return _end(db, call, party, reason)


def _end(db: Session, call: Call, party: Party | None, reason: CallEndReason) -> Sends:
    if call.status is CallStatus.ENDED:
        raise Conflict("this call has already ended")
    was_queued = call.status is CallStatus.QUEUED
    if was_queued and party is not None and party.device_id is not None:
        reason = CallEndReason.CANCELLED
    by = None if party is None else ("box" if party.device_id is not None else "caller")
    ended = db.execute(
        update(Call)
        .where(Call.id == call.id, Call.status != CallStatus.ENDED)
        .values(status=CallStatus.ENDED, ended_at=utcnow(), end_reason=reason, ended_by=by)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult
    if ended != 1:
        raise Conflict("this call has already ended")
    db.refresh(call)
    audit.record(db, f"call.ended.{reason.value}", call.elder_id, detail=str(call.id))
    message = CallEnded(call_id=call.id, reason=reason, by=by)
    sends = Sends(call_id=call.id, to_devices=[(call.device_id, message)])
    # Everyone an elder's call rang hears it ended (their banners go away).
    users = set(db.scalars(select(CallRing.user_id).where(CallRing.call_id == call.id)))
    if call.user_id is not None:
        users.add(call.user_id)
    sends.to_users.extend((user_id, message) for user_id in sorted(users))
    if was_queued and call.clinic_id is not None:
        sends.queues.append(queue_push(db, call.clinic_id))
    return sends


def end_if_live(
    db_: Database, call_id: int, statuses: tuple[CallStatus, ...], reason: CallEndReason
) -> Sends | None:
    """The server ends a call still in ``statuses`` (ring timeout, a box gone away)."""
    with db_.session() as db:
        call = db.get(Call, call_id)
        if call is None or call.status not in statuses:
            return None
        return _end(db, call, None, reason)


def live_calls_of_device(db_: Database, device_id: int) -> list[int]:
    """Ids of the box's calls that are not over."""
    with db_.session() as db:
        return list(
            db.scalars(
                select(Call.id).where(Call.device_id == device_id, Call.status.in_(LIVE_STATUSES))
            )
        )


def relay_target(db_: Database, party: Party, call_id: int) -> Party:
    """Where a signaling message from ``party`` goes: the other side of an active call."""
    with db_.session() as db:
        call = _call_for(db, party, call_id)
        if call.status is not CallStatus.ACTIVE:
            raise Conflict("this call is not connected")
        if party.device_id is not None:
            return Party(user_id=call.user_id)
        return Party(device_id=call.device_id)


def save_notes(db_: Database, user_id: int, call_id: int, notes: str, outcome: str | None) -> None:
    """The doctor's notes (and outcome) become the consult's record."""
    with db_.session() as db:
        call = _call_for(db, Party(user_id=user_id), call_id)
        user = db.get(User, user_id)
        if call.kind is not CallKind.CONSULT or user is None or user.role is not Role.DOCTOR:
            raise Forbidden("only the consulting doctor writes a consult's notes")
        if not can_see_elder(db, user, call.elder_id):
            raise NotFound(f"no call {call_id} of yours")
        call.notes = notes
        if outcome is not None:
            call.outcome = outcome
        audit.record(db, "consult.notes_saved", call.elder_id, user=user, detail=str(call.id))

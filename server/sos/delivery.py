"""Getting an SOS to people: the first fan-out, escalation, and telling the box who answered.

Work still to do lives on the `SosAlert` row; every step is claimed with a conditional
UPDATE before it is done, so the socket handler, the periodic sweep and several server
processes never send the same step twice:

- fan-out: claimed by setting ``fanout_claimed_at`` (a claim older than `FANOUT_LEASE` is
  taken over: its process died), finished by ``fanout_done_at``;
- escalation: claimed by moving ``level`` from n to n+1 while ``next_escalation_at`` is due.

Levels: 0 = the operator board of the elder's area and the linked family (pages, e-mail,
text); 1..n = the elder's emergency contacts in their order; n+1 = the area's supervisors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from protocol import (
    Changed,
    Message,
    SosAcknowledged,
    SosAlertPush,
    SosResolved,
    SosStatus,
    Topic,
)
from server.models import (
    AreaSupervisor,
    CareLink,
    Device,
    Elder,
    SosAlert,
    SosStepKind,
    User,
    utcnow,
)
from server.notify import Email
from server.outgoing import deliver, queue_email, queue_text
from server.permissions import sos_audience
from server.runtime import Runtime
from server.sos.alerts import acknowledger_for_box, add_step, step_facts
from server.sos.messages import Told, alert_link, handled_wording, sos_wording

log = logging.getLogger(__name__)
FANOUT_LEASE = timedelta(seconds=15)
# The sweep takes over a fan-out its socket has not claimed within this time (crash, restart).
FRESH_GRACE = timedelta(seconds=2)


@dataclass
class Outgoing:
    """What one delivery step sends once its claim is committed."""

    users: set[int] = field(default_factory=set)
    pushes: list[Message] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)  # their rows in `server.outgoing`

    def queue(self, db: Session, step: str) -> None:
        """Store the e-mails and texts with the claim, so they survive a failed send or a crash."""
        self.queued = [queue_email(db, e, f"{step}:email:{e.to}") for e in self.emails]
        self.queued += [
            queue_text(db, phone, body, f"{step}:text:{phone}") for phone, body in self.texts
        ]


def alert_push(alert: SosAlert, elder: Elder) -> SosAlertPush:
    """The page message for ``alert`` as it stands."""
    return SosAlertPush(
        alert_id=alert.id,
        key=alert.key,
        elder_id=elder.id,
        elder_name=elder.name,
        status=alert.status,
        source=alert.source,
        raised_at=alert.raised_at,
        level=alert.level,
    )


def _reach(
    out: Outgoing,
    message: tuple[Elder, SosAlert, Told, str],
    user: User | None,
    phone: str,
    email: str,
) -> list[str]:
    """Add the ways to reach one person, in their language; which ways, for the timeline."""
    elder, alert, told, base_url = message
    ways = []
    if user is not None:
        out.users.add(user.id)
        ways.append("page")
        email = email or user.email
        phone = phone or user.phone
    lang = user.lang if user is not None else elder.lang
    words = sos_wording(elder, alert, lang, told, alert_link(base_url, alert, user))
    if email:
        out.emails.append(Email(to=email, subject=words.subject, body=words.body))
        ways.append("email")
    if phone:
        out.texts.append((phone, words.text))
        ways.append("text")
    return ways


def claim_fanout(db: Session, alert_id: int, now: datetime, base_url: str) -> Outgoing | None:
    """Claim the first fan-out of an alert and say what to send; None if it is not ours."""
    claimed = db.execute(
        update(SosAlert)
        .where(
            SosAlert.id == alert_id,
            SosAlert.fanout_done_at.is_(None),
            or_(
                SosAlert.fanout_claimed_at.is_(None),
                SosAlert.fanout_claimed_at < now - FANOUT_LEASE,
            ),
        )
        .values(fanout_claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]  # CursorResult of an UPDATE
    if claimed != 1:
        return None
    alert = db.get(SosAlert, alert_id)
    assert alert is not None
    db.refresh(alert)
    elder = db.get(Elder, alert.elder_id)
    assert elder is not None
    out = Outgoing(users=sos_audience(db, elder))
    out.pushes = [alert_push(alert, elder), Changed(topic=Topic.SOS, elder_id=elder.id)]
    family = db.scalars(
        select(User)
        .join(CareLink, CareLink.user_id == User.id)
        .where(CareLink.elder_id == elder.id, User.is_active.is_(True))
    ).all()
    board = len(out.users - {u.id for u in family})
    message = (elder, alert, Told(family=len(family)), base_url)
    reached = [{"name": u.name, "ways": _reach(out, message, u, "", "")} for u in family]
    alert.fanout_done_at = now
    add_step(db, alert, SosStepKind.FANNED_OUT, step_facts(board=board, reached=reached), at=now)
    out.queue(db, f"sos:{alert.id}:L0")
    return out


def claim_escalation(
    db: Session, alert_id: int, interval: float, now: datetime, base_url: str
) -> Outgoing | None:
    """Claim the next escalation level of an unanswered alert; None if not due or not ours."""
    alert = db.get(SosAlert, alert_id)
    if alert is None:
        return None
    db.refresh(alert)
    if alert.status is not SosStatus.OPEN or alert.next_escalation_at is None:
        return None
    if alert.next_escalation_at > now:
        return None
    elder = db.get(Elder, alert.elder_id)
    assert elder is not None
    contacts = list(elder.contacts)
    new_level = alert.level + 1
    last = new_level > len(contacts)  # past the contacts: the supervisors, then stop
    claimed = db.execute(
        update(SosAlert)
        .where(
            SosAlert.id == alert.id,
            SosAlert.level == alert.level,
            SosAlert.status == SosStatus.OPEN,
        )
        .values(
            level=new_level,
            next_escalation_at=None if last else now + timedelta(seconds=interval),
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]  # CursorResult of an UPDATE
    if claimed != 1:
        return None
    db.refresh(alert)
    out = Outgoing()
    waited = (now - alert.stored_at).total_seconds()
    if not last:
        contact = contacts[new_level - 1]
        user = db.get(User, contact.user_id) if contact.user_id else None
        told = Told(contacts=new_level - 1, waited_seconds=waited, position=new_level)
        ways = _reach(out, (elder, alert, told, base_url), user, contact.phone, contact.email)
        add_step(
            db,
            alert,
            SosStepKind.CONTACT_ALERTED,
            step_facts(position=new_level, name=contact.name, ways=ways),
            at=now,
        )
    else:
        told = Told(contacts=len(contacts), waited_seconds=waited)
        message = (elder, alert, told, base_url)
        reached = [
            {"name": u.name, "ways": _reach(out, message, u, "", "")}
            for u in _supervisors(db, elder)
        ]
        add_step(db, alert, SosStepKind.SUPERVISOR_ALERTED, step_facts(reached=reached), at=now)
    out.queue(db, f"sos:{alert.id}:L{new_level}")
    out.users |= sos_audience(db, elder)  # the board shows the new level too
    out.pushes = [alert_push(alert, elder), Changed(topic=Topic.SOS, elder_id=elder.id)]
    return out


def _supervisors(db: Session, elder: Elder) -> list[User]:
    if elder.service_area_id is None:
        return []
    return list(
        db.scalars(
            select(User)
            .join(AreaSupervisor, AreaSupervisor.user_id == User.id)
            .where(
                AreaSupervisor.service_area_id == elder.service_area_id, User.is_active.is_(True)
            )
            .order_by(User.id)
        )
    )


def send_outgoing(rt: Runtime, out: Outgoing) -> None:
    """From a worker thread: push to pages, then e-mail and text (failures are logged)."""
    for message in out.pushes:
        rt.hub.push(rt.hub.to_users(out.users, message))
    send_mail_and_texts(rt, out)


def send_mail_and_texts(rt: Runtime, out: Outgoing) -> None:
    """Send the e-mails and texts queued with ``out``'s claim; failures are retried later."""
    deliver(rt, out.queued)


def box_messages(db: Session, alert: SosAlert) -> tuple[set[int], Message | None]:
    """Live devices of the alert's elder and what to tell them about the alert now."""
    devices = set(
        db.scalars(
            select(Device.id).where(Device.elder_id == alert.elder_id, Device.revoked_at.is_(None))
        )
    )
    if alert.status is SosStatus.RESOLVED:
        return devices, SosResolved(alert_id=alert.id, key=alert.key)
    if alert.status is SosStatus.ACKNOWLEDGED:
        name, relation, role = acknowledger_for_box(db, alert)
        return devices, SosAcknowledged(
            alert_id=alert.id, key=alert.key, by_name=name, relation=relation, by_role=role
        )
    return devices, None


def tell_box(rt: Runtime, alert_id: int) -> bool:
    """Tell the elder's box the alert's state (from any thread, never waits); True if a box
    of the elder is online to hear it. That the box heard an acknowledgement is recorded once
    it was sent."""
    with rt.db.session() as db:
        alert = db.get(SosAlert, alert_id)
        if alert is None:
            return False
        devices, message = box_messages(db, alert)
    if message is None or not any(rt.hub.device_connected(d) for d in devices):
        return False
    rt.hub.push(_tell_devices(rt, alert_id, devices, message))
    return True


async def _tell_devices(rt: Runtime, alert_id: int, devices: set[int], message: Message) -> None:
    reached = 0
    for device_id in devices:
        reached += await rt.hub.to_device(device_id, message)
    if reached and isinstance(message, SosAcknowledged):
        await rt.threads.in_request_thread(_record_box_told, rt, alert_id, message.by_name)


def _record_box_told(rt: Runtime, alert_id: int, by_name: str) -> None:
    with rt.db.session() as db:
        told = db.execute(
            update(SosAlert)
            .where(SosAlert.id == alert_id, SosAlert.box_told_at.is_(None))
            .values(box_told_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        if told:
            alert = db.get(SosAlert, alert_id)
            assert alert is not None
            add_step(db, alert, SosStepKind.BOX_TOLD, by_name)


def queue_handled(db: Session, alert: SosAlert, elder: Elder, base_url: str) -> list[int]:
    """E-mail the family, once, who took the alert (not the one who took it)."""
    by = db.get(User, alert.acknowledged_by_id) if alert.acknowledged_by_id else None
    if by is None or alert.acknowledged_at is None:
        return []
    family = db.scalars(
        select(User)
        .join(CareLink, CareLink.user_id == User.id)
        .where(CareLink.elder_id == elder.id, User.is_active.is_(True), User.id != by.id)
    ).all()
    queued = []
    for user in family:
        if not user.email:
            continue
        words = handled_wording(elder, alert, by, user.lang, alert_link(base_url, alert, user))
        mail = Email(to=user.email, subject=words.subject, body=words.body)
        queued.append(queue_email(db, mail, f"sos:{alert.id}:handled:email:{user.email}"))
    return queued


def announce_change(rt: Runtime, alert_id: int) -> None:
    """From a worker thread: tell the board and family pages that an alert changed, and the
    family by e-mail who is handling it (sent from a worker, never holding up the request)."""
    with rt.db.session() as db:
        alert = db.get(SosAlert, alert_id)
        if alert is None:
            return
        elder = db.get(Elder, alert.elder_id)
        assert elder is not None
        users = sos_audience(db, elder)
        pushes = [alert_push(alert, elder), Changed(topic=Topic.SOS, elder_id=elder.id)]
        handled = queue_handled(db, alert, elder, rt.settings.public_base_url)
    for message in pushes:
        rt.hub.push(rt.hub.to_users(users, message))
    if handled:
        rt.hub.push(rt.threads.in_request_thread(deliver, rt, handled))


def deliver_pending(rt: Runtime, now_fn: Callable[[], datetime] = utcnow) -> int:
    """Fan out, escalate and tell boxes whatever is due; returns how many steps were sent."""
    done = 0
    now = now_fn()
    with rt.db.session() as db:
        waiting = db.scalars(
            select(SosAlert.id).where(
                SosAlert.fanout_done_at.is_(None),
                # A fresh alert is being fanned out by the socket that stored it: leave it
                # alone for a moment rather than race that socket for the write lock.
                SosAlert.stored_at < now - FRESH_GRACE,
                or_(
                    SosAlert.fanout_claimed_at.is_(None),
                    SosAlert.fanout_claimed_at < now - FANOUT_LEASE,
                ),
            )
        ).all()
        due = db.scalars(
            select(SosAlert.id).where(
                SosAlert.status == SosStatus.OPEN, SosAlert.next_escalation_at <= now
            )
        ).all()
        untold = db.scalars(
            select(SosAlert.id).where(
                SosAlert.status == SosStatus.ACKNOWLEDGED, SosAlert.box_told_at.is_(None)
            )
        ).all()
    for alert_id in waiting:
        with rt.db.session() as db:
            out = claim_fanout(db, alert_id, now, rt.settings.public_base_url)
        if out is not None:
            send_outgoing(rt, out)
            done += 1
    for alert_id in due:
        with rt.db.session() as db:
            out = claim_escalation(
                db, alert_id, rt.settings.sos_escalation_seconds, now, rt.settings.public_base_url
            )
        if out is not None:
            send_outgoing(rt, out)
            done += 1
    for alert_id in untold:
        if tell_box(rt, alert_id):
            done += 1
    return done


def sos_sweep(rt: Runtime) -> str | None:
    """Deliver fan-outs left behind (crash, restart) and escalate unanswered alerts."""
    sent = deliver_pending(rt)
    return f"{sent} SOS steps sent" if sent else None


def after_change(rt: Runtime, alert_id: int) -> None:
    """Tell the box and the pages that an alert was acknowledged or resolved."""
    tell_box(rt, alert_id)
    announce_change(rt, alert_id)

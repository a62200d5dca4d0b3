"""Durable e-mail and text messages: queued with the event, sent once, retried until they go.

A feature queues its messages with `queue_email` / `queue_text` in the same database
transaction as the event that causes them (a claimed missed-dose alert, an SOS step). After
that transaction commits it calls `deliver` with the ids it got, so a healthy mail server
sees the message at once; the periodic `outgoing_sweep` sends whatever is left: messages
whose send failed (SMTP down, gateway refusing) after a back-off, and messages of a process
that died between committing and sending.

Each send is claimed first with a conditional UPDATE that sets a lease (``claimed_until``),
so several server processes never send the same message at the same time. A process that
dies after the mail server accepted a message but before recording it lets the lease run
out, and the message goes again: at least once, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from server.models import Channel, OutgoingMessage, utcnow
from server.notify import Email
from server.runtime import Runtime

log = logging.getLogger(__name__)
# Waits after the 1st, 2nd, … failed attempt; after the last one the message is given up.
RETRY_AFTER = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)
CLAIM_LEASE = timedelta(minutes=2)
SWEEP_SECONDS = 15.0
BATCH = 200


def queue_email(db: Session, email: Email, key: str) -> int:
    """Queue one e-mail under ``key`` (queueing the same key again returns the first id)."""
    return _queue(db, Channel.EMAIL, email.to, email.subject, email.body, key)


def queue_text(db: Session, phone: str, body: str, key: str) -> int:
    """Queue one text message under ``key``."""
    return _queue(db, Channel.TEXT, phone, "", body, key)


def _queue(db: Session, channel: Channel, to: str, subject: str, body: str, key: str) -> int:
    key = key[:200]
    existing = db.scalar(select(OutgoingMessage.id).where(OutgoingMessage.key == key))
    if existing is not None:
        return existing
    message = OutgoingMessage(
        key=key, channel=channel, recipient=to, subject=subject[:300], body=body
    )
    db.add(message)
    db.flush()
    return message.id


def _sendable(now: datetime) -> list[ColumnElement[bool]]:
    return [
        OutgoingMessage.sent_at.is_(None),
        OutgoingMessage.failed_at.is_(None),
        or_(OutgoingMessage.claimed_until.is_(None), OutgoingMessage.claimed_until < now),
    ]


def deliver(
    rt: Runtime, ids: Iterable[int] | None = None, now_fn: Callable[[], datetime] = utcnow
) -> int:
    """From a worker thread: send the given messages (or every due one); return how many went."""
    now = now_fn()
    query = select(OutgoingMessage.id).where(*_sendable(now))
    if ids is None:
        query = query.where(OutgoingMessage.due_at <= now)
    else:
        wanted = list(ids)
        if not wanted:
            return 0
        query = query.where(OutgoingMessage.id.in_(wanted))
    with rt.db.session() as db:
        candidates = db.scalars(query.order_by(OutgoingMessage.id).limit(BATCH)).all()
    return sum(_deliver_one(rt, message_id, now) for message_id in candidates)


def _deliver_one(rt: Runtime, message_id: int, now: datetime) -> bool:
    with rt.db.session() as db:
        claimed = db.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id == message_id, *_sendable(now))
            .values(claimed_until=now + CLAIM_LEASE, attempts=OutgoingMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        if claimed != 1:
            return False
        message = db.get(OutgoingMessage, message_id)
        assert message is not None
        db.refresh(message)
        channel, to, subject, body = (
            message.channel,
            message.recipient,
            message.subject,
            message.body,
        )
        attempts = message.attempts
    try:
        if channel is Channel.EMAIL:
            assert rt.notifier is not None
            rt.notifier.send(Email(to=to, subject=subject, body=body))
        else:
            rt.texts.send_text(to, body)
    except Exception as err:  # noqa: BLE001 - any transport failure: retry later
        _failed(rt, message_id, attempts, now, err)
        return False
    with rt.db.session() as db:
        db.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id == message_id)
            .values(sent_at=utcnow(), claimed_until=None, last_error="")
            .execution_options(synchronize_session=False)
        )
    return True


def _failed(rt: Runtime, message_id: int, attempts: int, now: datetime, err: Exception) -> None:
    given_up = attempts > len(RETRY_AFTER)
    values: dict[str, object] = {"claimed_until": None, "last_error": str(err)[:500] or repr(err)}
    if given_up:
        values["failed_at"] = now
        log.error(
            "giving up on outgoing message %s after %s attempts: %s", message_id, attempts, err
        )
    else:
        values["due_at"] = now + RETRY_AFTER[attempts - 1]
        log.warning(
            "outgoing message %s failed (attempt %s), will retry: %s", message_id, attempts, err
        )
    with rt.db.session() as db:
        db.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id == message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def outgoing_sweep(rt: Runtime) -> str | None:
    """Send what is due: retries, and messages a dead process queued but never sent."""
    sent = deliver(rt)
    return f"{sent} queued messages sent" if sent else None

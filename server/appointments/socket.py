"""Appointments on the box socket: the choices of "Book a visit", holds, bookings and
cancellations made with the remote.

The box books as itself (``device:<id>``): its idempotency keys are scoped to the device, so
a retried ``appt_book`` returns the first booking. A cancellation comes through the outbox
and is acked once stored; resent, it changes nothing. Every change reaches the elder's pages
and boxes (`server.appointments.notices.announce`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from protocol import (
    Ack,
    ApptBook,
    ApptBooked,
    ApptCancel,
    ApptHeld,
    ApptHold,
    ApptOptions,
    ApptOptionsRequest,
    ApptRefused,
    Message,
)
from server import audit
from server.appointments import booking
from server.appointments.booking import Booker
from server.appointments.choices import held_slot, options
from server.appointments.clinic_schedule import LocalSchedule, schedule_for
from server.appointments.notices import announce
from server.appointments.tv import visit_info
from server.errors import AppError, Forbidden
from server.models import Appointment, BookedBy, Clinic, Device, Elder, Slot, VisitKind, utcnow
from server.runtime import Runtime
from server.ws.connection import Connection


def _elder_of(db: Session, device_id: int) -> tuple[Device, Elder]:
    device = db.get(Device, device_id)
    assert device is not None
    elder = db.get(Elder, device.elder_id)
    assert elder is not None
    return device, elder


def _booker(device: Device, elder: Elder) -> Booker:
    return Booker(BookedBy.ELDER_BOX, f"device:{device.id}", elder.lang, device_id=device.id)


async def _answer(
    conn: Connection, rt: Runtime, work: Callable[[], Message], ref: str | None
) -> None:
    """Run ``work`` off the loop and send its answer; a refusal is sent as ``appt_refused``."""
    try:
        answer = await rt.threads.in_request_thread(work)
    except AppError as err:
        answer = ApptRefused(ref=ref, code=err.code, message=err.message[:300])
    await conn.send(answer)


async def options_request(conn: Connection, rt: Runtime, message: ApptOptionsRequest) -> None:
    """The choices of one step of "Book a visit"."""
    assert conn.device_id is not None
    device_id = conn.device_id

    def work() -> ApptOptions:
        with rt.db.session() as db:
            _device, elder = _elder_of(db, device_id)
            return options(db, elder, message, utcnow())

    await _answer(conn, rt, work, message.id)


async def hold(conn: Connection, rt: Runtime, message: ApptHold) -> None:
    """Keep the slot for the elder while the confirm screen is read."""
    assert conn.device_id is not None
    device_id = conn.device_id

    def work() -> ApptHeld:
        with rt.db.session() as db:
            device, elder = _elder_of(db, device_id)
            held = booking.hold_slot(db, _booker(device, elder), elder, message.slot_id, utcnow())
            answer = ApptHeld(
                ref=message.id,
                hold_id=held.id,
                expires_at=held.expires_at,
                slot=held_slot(db, held.slot_id, elder.lang),
            )
            db.commit()
            return answer

    await _answer(conn, rt, work, message.id)


async def book(conn: Connection, rt: Runtime, message: ApptBook) -> None:
    """Book the held slot for the elder; the same key again answers with the first booking."""
    assert conn.device_id is not None
    device_id = conn.device_id

    def work() -> ApptBooked:
        with rt.db.session() as db:
            device, elder = _elder_of(db, device_id)
            if not elder.is_active:
                raise Forbidden("the elder's service has ended")
            slot = db.get(Slot, message.slot_id)
            clinic = db.get(Clinic, slot.clinic_id) if slot is not None else None
            # A clinic with its own FHIR server is booked there too (LocalSchedule otherwise).
            schedule = schedule_for(clinic) if clinic is not None else LocalSchedule(Clinic(id=0))
            ask = booking.Ask(
                _booker(device, elder),
                elder,
                message.slot_id,
                VisitKind(message.place.value),
                message.key,
                utcnow(),
                message.hold_id,
            )
            visit, created = schedule.book(db, ask)
            if created:
                audit.record(
                    db,
                    "appointment.booked",
                    elder.id,
                    device=device,
                    target=f"appointment:{visit.id}",
                )
            answer = ApptBooked(
                ref=message.id,
                key=message.key,
                visit=visit_info(db, visit, elder.lang),
                created=created,
            )
            db.commit()
            if created:
                announce(db, rt.hub, [elder.id], "booked", [visit.clinic_id])
            return answer

    await _answer(conn, rt, work, message.id)


async def cancel(conn: Connection, rt: Runtime, message: ApptCancel) -> None:
    """Cancel one of the elder's visits (from the outbox): once, whatever the resends."""
    assert conn.device_id is not None
    device_id = conn.device_id

    def work() -> bool:
        with rt.db.session() as db:
            device, elder = _elder_of(db, device_id)
            visit = db.get(Appointment, message.appointment_id)
            if visit is None or visit.elder_id != elder.id:
                return False  # not the elder's: nothing to do (and nothing to resend)
            schedule = schedule_for(db.get_one(Clinic, visit.clinic_id))
            changed = schedule.cancel(db, elder.lang, visit, "cancelled on the TV", utcnow())
            if changed:
                audit.record(
                    db,
                    "appointment.cancelled",
                    elder.id,
                    device=device,
                    target=f"appointment:{visit.id}",
                )
                db.commit()
                announce(db, rt.hub, [elder.id], "cancelled", [visit.clinic_id])
            return changed

    changed = await rt.threads.in_request_thread(work)
    await conn.send(Ack(key=message.key, duplicate=not changed, id=message.id))

"""Changes a clinic made on its own FHIR server, read back (a sweep every minute).

For each active clinic with a FHIR base URL: ``GET Appointment?_lastUpdated=gt<mark>``; each
Appointment we mirror (``appointments.remote_id``) takes the clinic's status (cancelled frees
our place and e-mails the family; arrived, no-show, done) and its times (a move e-mails the
family); every elder concerned gets the ``changed`` push. The mark moves to the newest
``meta.lastUpdated`` read, so a change is applied once. A clinic that does not answer is
tried again at the next sweep (one WARNING line).

A booking the clinic stored but whose answer never reached us (our side rolled back) carries
our ``urn:anxin:booking`` identifier and has no visit here: once it is older than
`ORPHAN_GRACE` (no booking of ours can still be in flight) it is cancelled at the clinic, so
the place is not lost. The mark stays `ORPHAN_GRACE` behind, so such a booking is seen again
until it is old enough; applying a change twice changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.appointments import booking
from server.appointments.fhir_client import (
    NOT_COMPLETED,
    FhirClient,
    FhirRefused,
    FhirUnavailable,
)
from server.appointments.fhir_resources import BOOKING_SYSTEM, FROM_FHIR
from server.appointments.notices import announce, family_of
from server.models import Appointment, AppointmentStatus, Clinic, Elder, Slot, User, utcnow
from server.notify import Email
from server.outgoing import deliver, queue_email
from server.runtime import Runtime
from server.web.i18n import translate
from server.web.when import FORMATS, local, zone_name_words

log = logging.getLogger(__name__)
POLL_SECONDS = 60.0
# The first poll of a clinic looks this far back.
FIRST_LOOK_BACK = timedelta(days=1)
# Longer than any booking's call to the clinic (`fhir_client.TIMEOUT_SECONDS`) and commit.
ORPHAN_GRACE = timedelta(minutes=2)


def poll_clinics(rt: Runtime) -> str | None:
    """Apply every clinic's changes since its mark; a few words on what changed, or None."""
    with rt.db.session() as db:
        clinic_ids = list(
            db.scalars(
                select(Clinic.id).where(
                    Clinic.is_active.is_(True), Clinic.fhir_base_url.is_not(None)
                )
            )
        )
    changed = 0
    for clinic_id in clinic_ids:
        with rt.db.session() as db:
            clinic = db.get(Clinic, clinic_id)
            if clinic is None or not clinic.fhir_base_url:
                continue
            elders, mail_ids = poll_clinic(db, clinic)
        if elders:
            changed += len(elders)
            deliver(rt, mail_ids)
            with rt.db.session() as db:
                announce(db, rt.hub, elders, "changed")
    return f"{changed} visits changed by their clinics" if changed else None


def poll_clinic(db: Session, clinic: Clinic) -> tuple[list[int], list[int]]:
    """Apply one clinic's changes (in ``db``'s transaction); (elders changed, e-mail ids)."""
    assert clinic.fhir_base_url
    since = clinic.fhir_polled_at or (utcnow() - FIRST_LOOK_BACK)
    now = utcnow()
    elders: list[int] = []
    mails: list[int] = []
    newest = since
    changes: list[tuple[Appointment, FhirAppointment]] = []
    try:
        # Every call to the clinic comes before our first write: nothing of ours is locked
        # while it answers.
        with FhirClient(clinic.fhir_base_url, clinic.fhir_auth_header) as client:
            found = client.changed_since(since)
            for remote in found:
                stamp = remote.meta.lastUpdated if remote.meta and remote.meta.lastUpdated else None
                if stamp is not None:
                    stamp = stamp.astimezone(UTC)
                    newest = max(newest, stamp)
                visit = db.scalar(
                    select(Appointment).where(
                        Appointment.clinic_id == clinic.id, Appointment.remote_id == remote.id
                    )
                )
                if visit is not None:
                    changes.append((visit, remote))
                elif stamp is not None and stamp < now - ORPHAN_GRACE:
                    _cancel_orphan(db, client, clinic, remote)
    except (FhirUnavailable, FhirRefused) as err:
        log.warning("clinic %s: its changes cannot be read now: %s", clinic.id, err)
        return elders, mails
    for visit, remote in changes:
        if _apply(db, clinic, visit, remote, mails):
            elders.append(visit.elder_id)
    clinic.fhir_polled_at = max(since, min(newest, now - ORPHAN_GRACE))
    db.flush()
    return elders, mails


def _cancel_orphan(
    db: Session, client: FhirClient, clinic: Clinic, remote: FhirAppointment
) -> None:
    """Cancel at the clinic a booking of ours that never became a visit here."""
    if str(remote.status) == "cancelled" or not remote.id:
        return
    ours = [
        i.value
        for i in remote.identifier or ()
        if i.system == BOOKING_SYSTEM and i.value and ":" in i.value
    ]
    if not ours:
        return  # not booked through Anxin: the clinic's own business
    sender, _, key = ours[0].rpartition(":")
    known = db.scalar(
        select(Appointment.id).where(
            Appointment.sender == sender, Appointment.idempotency_key == key
        )
    )
    if known is not None:
        return
    client.cancel(remote.id, NOT_COMPLETED)
    log.info("clinic %s: cancelled booking %s that never completed here", clinic.id, remote.id)


def _apply(
    db: Session, clinic: Clinic, visit: Appointment, remote: FhirAppointment, mails: list[int]
) -> bool:
    status = FROM_FHIR.get(str(remote.status))
    now = utcnow()
    if status is AppointmentStatus.CANCELLED:
        if not booking.cancel(db, visit.id, translate_reason(db, visit), now):
            return False
        db.refresh(visit)
        mails.extend(_mail(db, clinic, visit, "cancelled"))
        return True
    moved = False
    if remote.start is not None and remote.end is not None:
        start, end = remote.start.astimezone(UTC), remote.end.astimezone(UTC)
        if (start, end) != (visit.starts_at, visit.ends_at):
            visit.starts_at, visit.ends_at = start, end
            db.execute(
                update(Slot)
                .where(Slot.id == visit.slot_id)
                .values(starts_at=start, ends_at=end)
                .execution_options(synchronize_session=False)
            )
            moved = True
    if (
        status is not None
        and status is not visit.status
        and visit.status is not (AppointmentStatus.CANCELLED)
    ):
        visit.status = status
        moved = True
    if moved:
        visit.updated_at = now
        db.flush()
        clash = _clash(db, visit)
        what = "clinic_moved" if clash is None else "clinic_moved_clash"
        mails.extend(_mail(db, clinic, visit, what, clash))
    return moved


def _clash(db: Session, visit: Appointment) -> Appointment | None:
    """Another visit of the elder's at the same time as ``visit``, now that the clinic moved
    it there: the clinic's change stands (its schedule is its own), and the family is asked
    to move or cancel one of the two."""
    if visit.status not in booking.ACTIVE:
        return None
    return db.scalar(
        select(Appointment)
        .where(
            Appointment.elder_id == visit.elder_id,
            Appointment.id != visit.id,
            Appointment.status.in_(booking.ACTIVE),
            Appointment.starts_at < visit.ends_at,
            Appointment.ends_at > visit.starts_at,
        )
        .order_by(Appointment.starts_at)
        .limit(1)
    )


def translate_reason(db: Session, visit: Appointment) -> str:
    """The reason kept on a visit the clinic cancelled (in the elder's language)."""
    elder = db.get(Elder, visit.elder_id)
    lang = elder.lang if elder is not None else None
    return translate(lang, "appointments.clinic_cancelled") if lang else "clinic"


def _mail(
    db: Session, clinic: Clinic, visit: Appointment, what: str, clash: Appointment | None = None
) -> list[int]:
    elder = db.get(Elder, visit.elder_id)
    doctor = db.get(User, visit.doctor_id)
    if elder is None:
        return []
    other_clinic = db.get(Clinic, clash.clinic_id) if clash is not None else None
    ids = []
    for user in family_of(db, elder.id):
        if not user.email:
            continue
        values = {
            "elder": elder.name,
            "when": local(visit.starts_at, elder.timezone).strftime(FORMATS["datetime"]),
            "zone": zone_name_words(user.lang, elder.timezone),
            "kind": translate(user.lang, f"appointments.kind.{visit.kind.value}"),
            "clinic": clinic.name,
            "doctor": doctor.name if doctor else "",
            "reason": translate(user.lang, "appointments.clinic_cancelled"),
        }
        if clash is not None:
            values["other_when"] = local(clash.starts_at, elder.timezone).strftime(
                FORMATS["datetime"]
            )
            values["other_clinic"] = other_clinic.name if other_clinic else ""
        mail = Email(
            to=user.email,
            subject=translate(user.lang, f"appointments.mail.{what}_subject", **values),
            body=translate(user.lang, f"appointments.mail.{what}_body", **values),
        )
        stamp = int(visit.starts_at.timestamp()) if isinstance(visit.starts_at, datetime) else 0
        key = f"appointment-{what}:{visit.id}:{user.id}:{visit.status.value}:{stamp}"
        ids.append(queue_email(db, mail, key))
    return ids

"""Telling people of booking changes: the pages' ``changed`` push, and e-mails to families.

Every change of an elder's visits pushes ``changed`` (topic ``appointment``) to the pages of
everyone who may see the elder, after the change is committed. A visit cancelled by a closure
is e-mailed to each linked family member, in their language, with the time in the elder's
zone named ("Beijing time"); the e-mails are queued in the closure's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Role, Topic
from server.appointments.tv import push_visits
from server.models import Appointment, CareLink, Clinic, Elder, User
from server.notify import Email
from server.outgoing import queue_email
from server.push import notify_elder, push_change
from server.web.i18n import translate
from server.web.when import FORMATS, local, zone_name_words
from server.ws.hub import Hub


def announce(
    db: Session, hub: Hub, elder_ids: Iterable[int], action: str, clinic_ids: Iterable[int] = ()
) -> None:
    """Push ``changed`` about these elders' visits to their pages and their new visit list to
    their TV boxes (after the commit), whoever made the change, and ``changed`` to the pages
    of the doctors and staff of ``clinic_ids`` (their day lists)."""
    elders = sorted(set(elder_ids))
    for elder_id in elders:
        elder = db.get(Elder, elder_id)
        if elder is not None:
            notify_elder(db, hub, elder, Topic.APPOINTMENT, {"action": action})
            push_visits(db, hub, elder_id)
    clinics = set(clinic_ids)
    if clinics and elders:
        staff = set(
            db.scalars(
                select(User.id).where(
                    User.clinic_id.in_(clinics),
                    User.role.in_((Role.DOCTOR, Role.CLINIC_STAFF)),
                    User.is_active.is_(True),
                )
            )
        )
        for elder_id in elders:
            hub.push(push_change(hub, Topic.APPOINTMENT, elder_id, {"action": action}, staff))


def family_of(db: Session, elder_id: int) -> list[User]:
    """The elder's linked, active family members."""
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


def cancelled_email(
    user: User, elder: Elder, visit: Appointment, place: tuple[str, str], reason: str
) -> Email:
    """The e-mail telling ``user`` that ``elder``'s visit was cancelled, in their language;
    ``place`` is (clinic name, doctor name)."""
    values = {
        "elder": elder.name,
        "when": local(visit.starts_at, elder.timezone).strftime(FORMATS["datetime"]),
        "zone": zone_name_words(user.lang, elder.timezone),
        "kind": translate(user.lang, f"appointments.kind.{visit.kind.value}"),
        "clinic": place[0],
        "doctor": place[1],
        "reason": reason or translate(user.lang, "appointments.closure_default_reason"),
    }
    return Email(
        to=user.email,
        subject=translate(user.lang, "appointments.mail.cancelled_subject", **values),
        body=translate(user.lang, "appointments.mail.cancelled_body", **values),
    )


def queue_cancelled_emails(db: Session, visits: list[Appointment], reason: str) -> list[int]:
    """Queue the cancellation e-mail of each visit to each family member; the message ids."""
    ids: list[int] = []
    for visit in visits:
        elder = db.get(Elder, visit.elder_id)
        doctor = db.get(User, visit.doctor_id)
        clinic = db.get(Clinic, visit.clinic_id)
        if elder is None:
            continue
        place = (clinic.name if clinic else "", doctor.name if doctor else "")
        for user in family_of(db, elder.id):
            if user.email:
                mail = cancelled_email(user, elder, visit, place, reason)
                ids.append(queue_email(db, mail, f"appointment-cancelled:{visit.id}:{user.id}"))
    return ids

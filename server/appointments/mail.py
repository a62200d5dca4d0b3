"""E-mails to an elder's family when a visit changes: booked, moved, cancelled, no-show.

Each linked family member gets one, in their language, with the time in the elder's zone
named ("Beijing time") and a link to the family page; the person who made the change is not
told of their own change (as with the SOS messages). The e-mails are queued in the change's
transaction (`server.outgoing`), so a rolled-back change sends nothing; the caller delivers
them after the commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.appointments.notices import family_of
from server.appointments.timetable import department_name
from server.models import Appointment, Clinic, Department, Elder, User
from server.notify import Email
from server.outgoing import queue_email
from server.web.i18n import translate
from server.web.when import FORMATS, local, zone_name_words

CHANGES = ("booked", "moved", "cancelled", "no_show")


def _values(db: Session, user: User, elder: Elder, visit: Appointment) -> dict[str, str]:
    clinic = db.get(Clinic, visit.clinic_id)
    doctor = db.get(User, visit.doctor_id)
    department = db.get(Department, visit.department_id)
    return {
        "elder": elder.name,
        "when": local(visit.starts_at, elder.timezone).strftime(FORMATS["datetime"]),
        "zone": zone_name_words(user.lang, elder.timezone),
        "kind": translate(user.lang, f"appointments.kind.{visit.kind.value}"),
        "clinic": clinic.name if clinic else "",
        "doctor": doctor.name if doctor else "",
        "department": department_name(department, user.lang) if department else "",
    }


def change_email(
    db: Session,
    user: User,
    change: str,
    visit: Appointment,
    link: str,
    before: Appointment | None = None,
    reason: str = "",
) -> Email:
    """The e-mail telling ``user`` of one change of a visit (``before``: the moved one)."""
    elder = db.get(Elder, visit.elder_id)
    assert elder is not None
    values = _values(db, user, elder, visit)
    values["link"] = link
    values["reason"] = reason or translate(user.lang, "appointments.mail.no_reason")
    if before is not None:
        values["before"] = local(before.starts_at, elder.timezone).strftime(FORMATS["datetime"])
    body = translate(user.lang, f"appointments.mail.{change}_body", **values)
    if link not in body:  # the cancellation's words are shared with the closure's e-mail
        body += f"\n{link}"
    return Email(
        to=user.email,
        subject=translate(user.lang, f"appointments.mail.{change}_subject", **values),
        body=body,
    )


def queue_change_emails(
    db: Session,
    change: str,
    visit: Appointment,
    base_url: str,
    actor_id: int | None = None,
    before: Appointment | None = None,
    reason: str = "",
) -> list[int]:
    """Queue ``change``'s e-mail to each family member but the actor; the message ids."""
    if change not in CHANGES:
        raise ValueError(f"unknown change {change!r}")
    link = f"{base_url.rstrip('/')}/family#appointments-{visit.elder_id}"
    ids = []
    for user in family_of(db, visit.elder_id):
        if user.id == actor_id or not user.email:
            continue
        mail = change_email(db, user, change, visit, link, before, reason)
        ids.append(queue_email(db, mail, f"appointment-{change}:{visit.id}:{user.id}"))
    return ids

"""A clinic's schedule, one interface with two implementations: our own tables, or the clinic's
own FHIR R4 server.

`schedule_for(clinic)` picks one. The booking routes call it, so the TV and the pages book a
clinic that runs its own system exactly as they book ours:

- `LocalSchedule`: the tables of `server.appointments.booking` and `.search`;
- `FhirSchedule`: the clinic's free Slots are read from its server and mirrored in ``slots``
  (``remote_id``); a hold is ours only (FHIR has no hold). A booking checks here (reading
  only), creates the Appointment at the clinic, then books here under our locks: nothing of
  ours is locked while the clinic answers, so a slow clinic never holds up an SOS on SQLite.
  A clinic that fails leaves nothing booked here; a booking that then loses a race here is
  cancelled at the clinic again (or by the poll, as an orphan); a retried booking is a
  conditional create there (never twice). A cancellation is the clinic's first, then ours.
  Changes the clinic makes are read back by the poll sweep (`server.appointments.fhir_sync`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.schedule import Schedule as FhirSchedule_
from fhir.resources.R4B.slot import Slot as FhirSlot
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server.appointments import booking
from server.appointments.booking import Ask, Booker
from server.appointments.errors import ClinicUnavailable, SlotTaken
from server.appointments.fhir_client import (
    NOT_COMPLETED,
    FhirClient,
    FhirRefused,
    FhirUnavailable,
)
from server.appointments.schemas import SlotPublic
from server.appointments.search import free_slots
from server.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Department,
    Elder,
    Slot,
    SlotHold,
    User,
    VisitKind,
)

log = logging.getLogger(__name__)


class ClinicSchedule(Protocol):
    """What booking needs of a clinic's schedule, wherever it is kept."""

    clinic: Clinic

    def refresh(self, db: Session, lang: Lang, window: tuple[datetime, datetime]) -> None:
        """Bring the clinic's free slots of ``window`` into our tables (if kept elsewhere)."""

    def search(
        self,
        db: Session,
        lang: Lang,
        window: tuple[datetime, datetime],
        department: str | None = None,
        kind: VisitKind | None = None,
        limit: int = 50,
    ) -> list[SlotPublic]:
        """Free slots of the clinic in ``window``, earliest first."""
        ...

    def hold(
        self, db: Session, booker: Booker, elder: Elder, slot_id: int, now: datetime
    ) -> SlotHold:
        """Keep a place of the slot for a few minutes."""
        ...

    def book(self, db: Session, ask: Ask) -> tuple[Appointment, bool]:
        """Book; (the visit, True), or (the first booking, False) for a retried key."""
        ...

    def reserve(self, db: Session, ask: Ask, besides: int | None = None) -> str | None:
        """The first half of a booking, with nothing of ours locked: the clinic's own
        Appointment for it (its id), or None where the schedule is ours."""
        ...

    def complete(self, db: Session, ask: Ask, made: str | None) -> tuple[Appointment, bool]:
        """The second half: book here under the locks, with what `reserve` made."""
        ...

    def undo(self, made: str) -> None:
        """Take back what `reserve` made, when the booking goes no further."""

    def cancel(
        self, db: Session, lang: Lang, visit: Appointment, reason: str, now: datetime
    ) -> bool:
        """Cancel a booked visit; False if it was not booked any more."""
        ...


class LocalSchedule:
    """A clinic whose schedule is our own tables."""

    def __init__(self, clinic: Clinic) -> None:
        self.clinic = clinic

    def refresh(self, db: Session, lang: Lang, window: tuple[datetime, datetime]) -> None:
        """Nothing to bring in: the tables are the schedule."""

    def search(
        self,
        db: Session,
        lang: Lang,
        window: tuple[datetime, datetime],
        department: str | None = None,
        kind: VisitKind | None = None,
        limit: int = 50,
    ) -> list[SlotPublic]:
        """Free slots from the tables."""
        return free_slots(db, lang, window, department, self.clinic.id, kind, limit)

    def hold(
        self, db: Session, booker: Booker, elder: Elder, slot_id: int, now: datetime
    ) -> SlotHold:
        """A hold row (see `server.appointments.booking.hold_slot`)."""
        return booking.hold_slot(db, booker, elder, slot_id, now)

    def book(self, db: Session, ask: Ask) -> tuple[Appointment, bool]:
        """Book under the locks (see `server.appointments.booking.book`)."""
        return booking.book_ask(db, ask)

    def reserve(self, db: Session, ask: Ask, besides: int | None = None) -> str | None:
        """Nothing to reserve elsewhere: `complete` books and checks."""
        return None

    def complete(self, db: Session, ask: Ask, made: str | None) -> tuple[Appointment, bool]:
        """Book under the locks."""
        return booking.book_ask(db, ask)

    def undo(self, made: str) -> None:
        """Nothing was made elsewhere."""

    def cancel(
        self, db: Session, lang: Lang, visit: Appointment, reason: str, now: datetime
    ) -> bool:
        """Cancel and free the place."""
        return booking.cancel(db, visit.id, reason, now)


class FhirSchedule(LocalSchedule):
    """A clinic that runs its own FHIR R4 server; its slots and visits mirrored in our tables."""

    def __init__(self, clinic: Clinic) -> None:
        super().__init__(clinic)
        assert clinic.fhir_base_url

    def client(self) -> FhirClient:
        """A client of the clinic's server (close it after use)."""
        assert self.clinic.fhir_base_url
        return FhirClient(self.clinic.fhir_base_url, self.clinic.fhir_auth_header)

    def unavailable(self, lang: Lang, err: Exception) -> ClinicUnavailable:
        """The error every screen shows, and one WARNING line saying what happened."""
        log.warning("clinic %s (%s): %s", self.clinic.id, self.clinic.fhir_base_url, err)
        return ClinicUnavailable(lang, self.clinic.name, str(err))

    def refresh(self, db: Session, lang: Lang, window: tuple[datetime, datetime]) -> None:
        """Mirror the clinic's free Slots of ``window``; mirrors it no longer offers close."""
        self.mirror(db, self.fetch(lang, window), window)

    def fetch(self, lang: Lang, window: tuple[datetime, datetime]) -> list[Resource]:
        """The clinic's free Slots of ``window`` with their Schedules, as its server has them
        (read before any write of ours, so nothing of ours is locked while it answers)."""
        try:
            with self.client() as client:
                return list(client.free_slots(window))
        except (FhirUnavailable, FhirRefused) as err:
            raise self.unavailable(lang, err) from err

    def mirror(self, db: Session, found: list[Resource], window: tuple[datetime, datetime]) -> None:
        """Mirror what `fetch` found in ``slots``; mirrors it no longer offers close."""
        schedules = {s.id: s for s in found if isinstance(s, FhirSchedule_)}
        doctors = {
            u.fhir_practitioner: u
            for u in db.scalars(
                select(User).where(
                    User.clinic_id == self.clinic.id,
                    User.role == Role.DOCTOR,
                    User.fhir_practitioner.is_not(None),
                )
            )
        }
        departments = {
            d.code: d
            for d in db.scalars(select(Department).where(Department.clinic_id == self.clinic.id))
        }
        seen: set[str] = set()
        for slot in found:
            if not isinstance(slot, FhirSlot) or not slot.id:
                continue
            schedule = schedules.get((slot.schedule.reference or "").removeprefix("Schedule/"))
            actors = [a.reference for a in (schedule.actor if schedule else ()) if a.reference]
            doctor = next((doctors[a] for a in actors if a in doctors), None)
            codes = [c.code for t in slot.serviceType or () for c in t.coding or () if c.code]
            department = next((departments[c] for c in codes if c in departments), None)
            if doctor is None or department is None or slot.start is None or slot.end is None:
                continue  # a doctor or a service this clinic's set-up does not map
            seen.add(slot.id)
            self._mirror(db, slot, doctor.id, department.id)
        stale = update(Slot).where(
            Slot.clinic_id == self.clinic.id,
            Slot.remote_id.is_not(None),
            Slot.starts_at >= window[0],
            Slot.starts_at < window[1],
            Slot.booked == 0,
        )
        if seen:
            stale = stale.where(Slot.remote_id.not_in(seen))
        db.execute(stale.values(closed=True).execution_options(synchronize_session=False))
        db.flush()

    def _mirror(self, db: Session, slot: FhirSlot, doctor_id: int, department_id: int) -> None:
        assert slot.start is not None and slot.end is not None
        start = slot.start.astimezone(UTC)
        end = slot.end.astimezone(UTC)
        row = db.scalar(
            select(Slot).where(
                Slot.clinic_id == self.clinic.id,
                (Slot.remote_id == slot.id)
                | ((Slot.doctor_id == doctor_id) & (Slot.starts_at == start)),
            )
        )
        if row is not None:
            row.remote_id, row.starts_at, row.ends_at = slot.id, start, end
            row.closed = False
            return
        try:
            with db.begin_nested():
                db.add(
                    Slot(
                        clinic_id=self.clinic.id,
                        doctor_id=doctor_id,
                        department_id=department_id,
                        starts_at=start,
                        ends_at=end,
                        capacity=1,
                        booked=0,
                        kinds=VisitKind.CLINIC.value,
                        closed=False,
                        remote_id=slot.id,
                    )
                )
        except IntegrityError:
            pass  # a search running beside this one mirrored it first

    def search(
        self,
        db: Session,
        lang: Lang,
        window: tuple[datetime, datetime],
        department: str | None = None,
        kind: VisitKind | None = None,
        limit: int = 50,
    ) -> list[SlotPublic]:
        """The clinic's free slots as its server has them now."""
        self.refresh(db, lang, window)
        return super().search(db, lang, window, department, kind, limit)

    def book(self, db: Session, ask: Ask) -> tuple[Appointment, bool]:
        """Our checks read first, then the Appointment at the clinic, then ours under the
        locks (see `reserve` and `complete`)."""
        first = booking._retried(db, ask.booker, ask.key, ask.elder.id, ask.slot_id)
        if first is not None:
            return first, False
        return self.complete(db, ask, self.reserve(db, ask))

    def reserve(self, db: Session, ask: Ask, besides: int | None = None) -> str | None:
        """Check (reading only) that the booking would go through here, then create the
        Appointment at the clinic: its id, or None for a slot of our own tables.

        Nothing of ours is locked or written while the clinic answers, so a clinic that takes
        its time never holds up anyone else (on SQLite, with its one writer, an SOS included).
        A retried key is a conditional create there: the first Appointment, never a second.
        """
        slot = booking.precheck(db, ask, besides)
        booker, elder = ask.booker, ask.elder
        if slot.remote_id is None:
            return None
        doctor = db.get(User, slot.doctor_id)
        try:
            with self.client() as client:
                made = client.book(
                    slot_id=slot.remote_id,
                    practitioner=doctor.fhir_practitioner if doctor else None,
                    patient=(elder.id, elder.name),
                    key=f"{booker.sender}:{ask.key}",
                    window=(slot.starts_at, slot.ends_at),
                )
        except FhirRefused as err:
            if err.status == 409:  # the clinic gave the slot to someone else
                raise SlotTaken(booker.lang) from err
            raise self.unavailable(booker.lang, err) from err
        except FhirUnavailable as err:
            raise self.unavailable(booker.lang, err) from err
        if not made.id:
            raise self.unavailable(booker.lang, FhirUnavailable("the Appointment has no id"))
        if str(made.status) == "cancelled":  # this key's earlier booking, undone since
            raise SlotTaken(booker.lang)
        return made.id

    def complete(self, db: Session, ask: Ask, made: str | None) -> tuple[Appointment, bool]:
        """Book here under the locks, with the clinic's Appointment ``made`` by `reserve`. If
        ours is refused now (a race lost since the checks), the clinic's is cancelled again;
        should the clinic not answer that, the poll cancels it as an orphan."""
        try:
            visit, created = booking.book_ask(db, ask)
        except Exception:
            if made is not None:
                db.rollback()  # let go of our locks before the clinic is called again
                self.undo(made)
            raise
        if created and made is not None:
            visit.remote_id = made
            db.flush()
        return visit, created

    def undo(self, made: str) -> None:
        """Cancel at the clinic an Appointment that did not become a visit here."""
        try:
            with self.client() as client:
                client.cancel(made, NOT_COMPLETED)
        except (FhirUnavailable, FhirRefused) as err:
            log.warning(
                "clinic %s: Appointment/%s is left for the poll to cancel: %s",
                self.clinic.id,
                made,
                err,
            )

    def cancel(
        self, db: Session, lang: Lang, visit: Appointment, reason: str, now: datetime
    ) -> bool:
        """Cancel at the clinic first (no lock of ours held while it answers), then here. A
        clinic that fails changes neither; should ours then fail, the poll brings the clinic's
        cancellation here."""
        db.refresh(visit)
        if visit.status is AppointmentStatus.BOOKED and visit.remote_id:
            try:
                with self.client() as client:
                    client.cancel(visit.remote_id, reason)
            except (FhirUnavailable, FhirRefused) as err:
                raise self.unavailable(lang, err) from err
        return booking.cancel(db, visit.id, reason, now)


def schedule_for(clinic: Clinic) -> ClinicSchedule:
    """The schedule of ``clinic``: its own FHIR server if it has one, else our tables."""
    return FhirSchedule(clinic) if clinic.fhir_base_url else LocalSchedule(clinic)


def refresh_remote_clinics(
    db: Session, lang: Lang, window: tuple[datetime, datetime], clinic_id: int | None
) -> None:
    """Mirror the free slots of the clinics with their own server (one, or every active one)
    before a search; across every clinic, one that does not answer is left out (logged)."""
    query = select(Clinic).where(Clinic.is_active.is_(True), Clinic.fhir_base_url.is_not(None))
    if clinic_id is not None:
        query = query.where(Clinic.id == clinic_id)
    found = []
    for clinic in db.scalars(query).all():  # every clinic asked before the first write
        schedule = FhirSchedule(clinic)
        try:
            found.append((schedule, schedule.fetch(lang, window)))
        except ClinicUnavailable:
            if clinic_id is not None:
                raise
    for schedule, resources in found:
        schedule.mirror(db, resources, window)

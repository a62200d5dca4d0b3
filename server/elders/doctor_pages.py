"""The doctor's pages: the clinic's elders (searched by name, 25 a page) and one elder's record.

The record (``/doctor/elders/{id}``) is the data that exists about an elder, readable outside a
call: who they are and their care notes here, then what features add as ``"record"`` sections
(medicines and adherence, SOS history, consults and their notes). Every read of a record is
audited (``elder.record_viewed``). Times are shown in the clinic's zone.

Only doctors see these pages (another role: 403 with a link to their own home); an elder of
another clinic is a 404, as if there were none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol import CallKind, SosStatus
from server import audit
from server.api.deps import RuntimeDep, SessionDep
from server.elders import listing
from server.ids import RowId, form_row_id
from server.models import Call, Clinic, Device, Elder, SosAlert
from server.permissions import elder_for_viewing
from server.web.homes import build_sections
from server.web.pages import DoctorUser, render
from server.web.when import staff_zone
from server.ws.presence import Presence

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
MAX_PAGE = 40_000  # 1,000,000 elders; a larger page number is read as the last one


@dataclass(frozen=True)
class DoctorRow:
    """One elder on the doctor's list."""

    elder: Elder
    age: int | None
    online: bool
    open_sos: bool
    last_consult: datetime | None


def _rows(db: Session, presence: Presence, elders: list[Elder]) -> list[DoctorRow]:
    """Box, SOS and consult state of one page of elders, in three queries."""
    ids = [e.id for e in elders]
    if not ids:
        return []
    devices: dict[int, list[int]] = {}
    for device_id, elder_id in db.execute(
        select(Device.id, Device.elder_id).where(
            Device.elder_id.in_(ids), Device.revoked_at.is_(None)
        )
    ):
        devices.setdefault(elder_id, []).append(device_id)
    open_sos = set(
        db.scalars(
            select(SosAlert.elder_id).where(
                SosAlert.elder_id.in_(ids), SosAlert.status != SosStatus.RESOLVED
            )
        )
    )
    consults = dict(
        db.execute(
            select(Call.elder_id, func.max(Call.requested_at))
            .where(Call.elder_id.in_(ids), Call.kind == CallKind.CONSULT)
            .group_by(Call.elder_id)
        )
        .tuples()
        .all()
    )
    now_year = datetime.now().year
    return [
        DoctorRow(
            elder=e,
            age=now_year - e.birth_year if e.birth_year else None,
            online=any(presence.hub.device_connected(d) for d in devices.get(e.id, [])),
            open_sos=e.id in open_sos,
            last_consult=consults.get(e.id),
        )
        for e in elders
    ]


@router.get("/doctor")
def doctor_home(request: Request, user: DoctorUser, db: SessionDep, rt: RuntimeDep) -> Response:
    """The elders in the care of the doctor's clinic, by name, 25 a page, with a name search."""
    q = " ".join(request.query_params.get("q", "").split())[:120]
    number = min(form_row_id(request.query_params.get("page", "1")) or 1, MAX_PAGE)
    page = listing.elder_page(
        db,
        user,
        q=q,
        status=listing.Status.ACTIVE,
        order=listing.Order.NAME,
        offset=(number - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    elders = [row.elder for row in page.rows]
    for elder in elders:
        audit.record(db, "elder.viewed_on_doctor_page", elder.id, user=user)
    return render(
        request,
        "elders/doctor_list.html",
        user,
        rows=_rows(db, rt.presence, elders),
        q=q,
        number=number,
        has_more=page.has_more,
        total=page.total,
        cap=listing.COUNT_CAP,
        zone=staff_zone(db, user),
        sections=build_sections("doctor", db, rt, user, elders),
    )


@router.get("/doctor/elders/{elder_id}")
def elder_record(
    elder_id: RowId, request: Request, user: DoctorUser, db: SessionDep, rt: RuntimeDep
) -> Response:
    """One elder's record as their doctor reads it: every read is on the audit log."""
    elder = elder_for_viewing(db, user, elder_id)
    audit.record(db, "elder.record_viewed", elder.id, user=user)
    clinic = db.get(Clinic, elder.clinic_id) if elder.clinic_id else None
    (row,) = _rows(db, rt.presence, [elder])
    return render(
        request,
        "elders/record.html",
        user,
        elder=elder,
        row=row,
        clinic=clinic,
        zone=staff_zone(db, user),
        sections=build_sections("record", db, rt, user, [elder]),
    )

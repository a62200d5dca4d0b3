"""Elders the caller may see: list, read (audited) and update."""

from __future__ import annotations

from typing import IO, Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from protocol import Lang, Role
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.elders import csv_io, deactivate, listing
from server.elders import records as elder_records
from server.elders.register import Places, Problem, check_fields, ref_taken, save_elder
from server.elders.schemas import (
    AuditEntryPublic,
    DevicePublic,
    ElderCreate,
    ElderDetailPublic,
    ElderPublic,
    ElderUpdate,
    ImportReportPublic,
    RefusedRowPublic,
)
from server.errors import Forbidden
from server.ids import RowId
from server.models import AuditEntry, Device, User
from server.permissions import elder_for_viewing, visible_elders
from server.web.i18n import translate

router = APIRouter(prefix="/api/elders", tags=["elders"])


@router.get("", response_model=list[ElderPublic], responses=answers(401, 422))
def list_elders(
    user: CurrentUser,
    db: SessionDep,
    response: Response,
    q: Annotated[str, Query(max_length=120)] = "",
    status: listing.Status = listing.Status.ALL,
    order: listing.Order = listing.Order.NEWEST,
    area_id: RowId | None = None,
    limit: Annotated[int | None, Query(ge=1, le=listing.MAX_PAGE_SIZE)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[ElderPublic]:
    """The elders the caller may see; with ``limit`` one page (header ``X-Next-Offset`` when
    there is a next), searched by name or phone digits (``q``), by status and area."""
    if limit is None and not q and status is listing.Status.ALL and area_id is None:
        # Every visible elder, in id order, as before pages existed.
        return [ElderPublic.model_validate(e) for e in db.scalars(visible_elders(user))]
    page = listing.elder_page(
        db,
        user,
        q=q,
        status=status,
        order=order,
        area_id=area_id,
        offset=offset,
        limit=limit or listing.PAGE_SIZE,
        count=False,
    )
    if page.has_more:
        response.headers["X-Next-Offset"] = str(offset + page.limit)
    return [ElderPublic.model_validate(row.elder) for row in page.rows]


@router.post(
    "", response_model=ElderDetailPublic, status_code=201, responses=answers(400, 401, 403, 422)
)
def create_elder(body: ElderCreate, user: CurrentUser, db: SessionDep) -> ElderDetailPublic:
    """Register an elder (operator: in their area; admin: in ``area_id``)."""
    if user.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("only the care centre or an administrator can register elders")
    values, problems = check_fields(
        body.as_text(), Places.load(db), by_name=False, admin=user.role is Role.ADMIN
    )
    area = values.get("service_area_id", user.service_area_id)
    if "register_ref" not in problems and ref_taken(db, area, values["register_ref"], None):
        problems["register_ref"] = Problem("elders.error.ref_taken")
    if problems:
        # As a body pydantic refused: 422 with the fields at fault (InvalidOut).
        raise RequestValidationError(
            [
                {
                    "loc": ("body", name),
                    "msg": translate(Lang.EN, p.key, **p.values),
                    "type": "value_error",
                }
                for name, p in problems.items()
            ]
        )
    elder = save_elder(db, user, values)
    db.commit()
    return ElderDetailPublic.model_validate(elder)


def _report_public(report: csv_io.ImportReport, lang: Lang) -> ImportReportPublic:
    refused = [
        RefusedRowPublic(
            line=r.line,
            register_ref=r.register_ref,
            name=r.name,
            reason=translate(lang, r.problem.key, **r.problem.values),
        )
        for r in report.refused_rows
    ]
    return ImportReportPublic(
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        refused=report.refused,
        refused_rows=refused,
        seconds=round(report.seconds, 3),
    )


@router.post("/import", response_model=ImportReportPublic, responses=answers(400, 401, 403, 422))
async def import_elders(
    request: Request, user: CurrentUser, rt: RuntimeDep, area_id: RowId | None = None
) -> ImportReportPublic:
    """Import a register of elders: a multipart ``file`` or a text/csv body; the report."""
    if user.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("only the care centre or an administrator imports elders")
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, StarletteUpload):
            raise csv_io.ImportRefused("send the CSV as the form field 'file'")
        source: IO[bytes] = upload.file
    else:
        source = await run_in_threadpool(csv_io.spool, [])
        async for chunk in request.stream():
            await run_in_threadpool(source.write, chunk)
        source.seek(0)
    user_id = user.id

    def run() -> csv_io.ImportReport:
        with rt.db.session() as db:
            importer = db.get(User, user_id)
            assert importer is not None
            return csv_io.import_csv(db, importer, source, Lang.EN, default_area_id=area_id)

    report = await run_in_threadpool(run)
    return _report_public(report, Lang.EN)


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {"description": "the register as CSV", "content": {"text/csv": {}}},
        **answers(401, 403, 422),
    },
)
def export_elders(user: CurrentUser, rt: RuntimeDep, area_id: RowId | None = None) -> Response:
    """The register of the elders one manages, as the import's CSV (English header)."""
    rows = csv_io.export_stream(rt, user, Lang.EN, area_id)
    return StreamingResponse(
        csv_io.lines_of(rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="elders.csv"'},
    )


@router.post(
    "/{elder_id}/deactivate",
    response_model=ElderDetailPublic,
    responses=answers(401, 403, 404, 422),
)
def deactivate_elder(
    elder_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> ElderDetailPublic:
    """End the elder's service: boxes revoked, no more reminder alerts; the record stays."""
    return ElderDetailPublic.model_validate(deactivate.deactivate_elder(rt, db, user, elder_id))


@router.post(
    "/{elder_id}/reactivate",
    response_model=ElderDetailPublic,
    responses=answers(401, 403, 404, 422),
)
def reactivate_elder(
    elder_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> ElderDetailPublic:
    """Take the elder's service up again (a box can be paired again)."""
    return ElderDetailPublic.model_validate(deactivate.reactivate_elder(rt, db, user, elder_id))


@router.get("/{elder_id}", response_model=ElderDetailPublic, responses=answers(401, 404, 422))
def read_elder(elder_id: RowId, user: CurrentUser, db: SessionDep) -> ElderDetailPublic:
    """One elder's record, with contacts and care notes; the read is audited."""
    elder = elder_for_viewing(db, user, elder_id)
    audit.record(db, "elder.read", elder.id, user=user)
    return ElderDetailPublic.model_validate(elder)


@router.patch(
    "/{elder_id}", response_model=ElderDetailPublic, responses=answers(400, 401, 403, 404, 422)
)
def update_elder(
    elder_id: RowId, body: ElderUpdate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> ElderDetailPublic:
    """Change an elder's record (family; doctors only care notes; admin); boxes hear of it."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return ElderDetailPublic.model_validate(
        elder_records.update_elder(rt, db, user, elder_id, changes)
    )


@router.get(
    "/{elder_id}/devices", response_model=list[DevicePublic], responses=answers(401, 404, 422)
)
def list_devices(
    elder_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> list[DevicePublic]:
    """The elder's TV boxes, revoked ones included, with whether each is online now."""
    elder = elder_for_viewing(db, user, elder_id)
    rows = db.scalars(select(Device).where(Device.elder_id == elder.id).order_by(Device.id))
    out = []
    for device in rows:
        public = DevicePublic.model_validate(device)
        live = {
            "online": rt.hub.device_connected(device.id),
            "last_seen_at": rt.presence.shown_last_seen(device.id, device.last_seen_at),
        }
        out.append(public.model_copy(update=live))
    return out


@router.get(
    "/{elder_id}/audit",
    response_model=list[AuditEntryPublic],
    responses=answers(401, 403, 404, 422),
)
def elder_audit(elder_id: RowId, user: CurrentUser, db: SessionDep) -> list[AuditEntryPublic]:
    """Who read or changed this elder's data (family and admins)."""
    elder = elder_for_viewing(db, user, elder_id)
    if user.role not in (Role.FAMILY, Role.ADMIN):
        raise Forbidden("only the elder's family or an administrator can read the audit log")
    rows = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.elder_id == elder.id)
        .order_by(AuditEntry.id.desc())
        .limit(200)
    )
    return [AuditEntryPublic.model_validate(r) for r in rows]

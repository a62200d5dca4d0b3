"""The care centre's pages about elders: the list with search, the register form, CSV import
and export, deactivation. For the operators of the elder's area and administrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import FormData

from protocol import Role
from server.api.deps import FormDep, RuntimeDep, SessionDep
from server.elders import csv_io, deactivate, listing
from server.elders.register import (
    FIELDS,
    Places,
    Problem,
    check_fields,
    elder_for_care_centre,
    form_of,
    ref_taken,
    save_elder,
)
from server.errors import NotFound
from server.ids import RowId
from server.models import Elder, User
from server.web.pages import OperatorForm, OperatorUser, check_form, page_lang, render

router = APIRouter(include_in_schema=False)
_STATUSES = {s.value for s in listing.Status}
_ORDERS = {o.value for o in listing.Order}


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 12 else None


@router.get("/elders")
def elder_list(request: Request, user: OperatorUser, db: SessionDep) -> Response:
    """The elders of the operator's area (an admin: all, or one area), 50 a page."""
    params = request.query_params
    status = params.get("status", "active")
    order = params.get("order", "newest")
    page = listing.elder_page(
        db,
        user,
        q=params.get("q", "")[:120],
        status=listing.Status(status) if status in _STATUSES else listing.Status.ACTIVE,
        order=listing.Order(order) if order in _ORDERS else listing.Order.NEWEST,
        area_id=_int(params.get("area")) if user.role is Role.ADMIN else None,
        offset=min(_int(params.get("offset")) or 0, 1_000_000),
    )
    query = {k: v for k, v in params.items() if k not in ("offset", "lang")}
    return render(
        request,
        "elders/list.html",
        user,
        page=page,
        query=query,
        areas=Places.load(db).areas if user.role is Role.ADMIN else {},
        cap=listing.COUNT_CAP,
        done=params.get("done", ""),
    )


def _form_page(
    request: Request,
    user: User,
    db: SessionDep,
    values: dict[str, str],
    problems: dict[str, Any],
    elder: Elder | None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "elders/form.html",
        user,
        status=status,
        form=values,
        problems=problems,
        elder=elder,
        places=Places.load(db),
        admin=user.role is Role.ADMIN,
        tile_url=request.app.state.rt.settings.map_tile_url,
    )


def _submitted(form: FormData) -> dict[str, str]:
    return {f: str(form.get(f, "")) for f in FIELDS}


def _save(
    request: Request, user: User, db: SessionDep, form: FormData, elder: Elder | None
) -> Response:
    check_form(request, str(form.get("csrf", "")))
    raw = _submitted(form)
    if elder is not None and user.role is Role.OPERATOR:
        raw["area"] = ""
    places = Places.load(db)
    values, problems = check_fields(raw, places, by_name=False, admin=user.role is Role.ADMIN)
    area = values.get("service_area_id", user.service_area_id)
    if "register_ref" not in problems and ref_taken(
        db, area, values["register_ref"], elder.id if elder else None
    ):
        problems["register_ref"] = Problem("elders.error.ref_taken")
    if problems:
        return _form_page(request, user, db, raw, problems, elder, status=422)
    saved = save_elder(db, user, values, elder)
    db.commit()
    if elder is None:
        return RedirectResponse(f"/elders?done=created#elder-{saved.id}", 303)
    return RedirectResponse(f"/elders/{saved.id}/edit?done=saved", 303)


@router.get("/elders/new")
def new_elder_form(request: Request, user: OperatorUser, db: SessionDep) -> Response:
    """An empty register form."""
    blank = {f: "" for f in FIELDS} | {"lang": "zh", "timezone": "Asia/Shanghai"}
    return _form_page(request, user, db, blank, {}, None)


@router.post("/elders/new")
def create_elder(request: Request, user: OperatorUser, db: SessionDep, form: FormDep) -> Response:
    """Register an elder; on a mistake the form again, with the messages and the input."""
    return _save(request, user, db, form, None)


@router.get("/elders/{elder_id}/edit")
def edit_elder_form(
    elder_id: RowId, request: Request, user: OperatorUser, db: SessionDep
) -> Response:
    """The register form filled with the elder's record."""
    elder = elder_for_care_centre(db, user, elder_id)
    return _form_page(request, user, db, form_of(elder, Places.load(db)), {}, elder)


@router.post("/elders/{elder_id}/edit")
def edit_elder(
    elder_id: RowId, request: Request, user: OperatorUser, db: SessionDep, form: FormDep
) -> Response:
    """Change the elder's record."""
    elder = elder_for_care_centre(db, user, elder_id)
    return _save(request, user, db, form, elder)


@router.post("/elders/{elder_id}/deactivate")
def deactivate_page(
    elder_id: RowId, user: OperatorForm, db: SessionDep, rt: RuntimeDep
) -> Response:
    """End the elder's service (after the page asked to confirm)."""
    deactivate.deactivate_elder(rt, db, user, elder_id)
    return RedirectResponse(f"/elders/{elder_id}/edit?done=deactivated", 303)


@router.post("/elders/{elder_id}/reactivate")
def reactivate_page(
    elder_id: RowId, user: OperatorForm, db: SessionDep, rt: RuntimeDep
) -> Response:
    """Take the elder's service up again."""
    deactivate.reactivate_elder(rt, db, user, elder_id)
    return RedirectResponse(f"/elders/{elder_id}/edit?done=reactivated", 303)


@router.get("/elders/import")
def import_page(request: Request, user: OperatorUser, db: SessionDep) -> Response:
    """How the CSV looks, the template, and the upload form."""
    lang = page_lang(request, user)
    return render(
        request,
        "elders/import.html",
        user,
        columns=csv_io.columns_for(user),
        headers=csv_io.HEADERS,
        example=csv_io.template_csv(user, lang).lstrip("\ufeff"),
        areas=Places.load(db).areas if user.role is Role.ADMIN else {},
    )


@router.get("/elders/import/template.csv")
def import_template(request: Request, user: OperatorUser) -> Response:
    """A CSV with the header and an example row, to fill in."""
    text = csv_io.template_csv(user, page_lang(request, user))
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="elders-template.csv"'},
    )


@router.post("/elders/import")
def import_upload(
    request: Request,
    user: OperatorForm,
    db: SessionDep,
    file: UploadFile | None = File(None),  # noqa: B008
    area: str = Form(""),
) -> Response:
    """Import the uploaded register; the report page (or the form again with why not)."""
    lang = page_lang(request, user)
    try:
        if file is None:
            raise csv_io.ImportRefused("choose a CSV file to import")
        report = csv_io.import_csv(db, user, file.file, lang, default_area_id=_int(area))
    except csv_io.ImportRefused as err:
        return render(
            request,
            "elders/import.html",
            user,
            status=400,
            error=err.message,
            columns=csv_io.columns_for(user),
            headers=csv_io.HEADERS,
            example=csv_io.template_csv(user, lang).lstrip("\ufeff"),
            areas=Places.load(db).areas if user.role is Role.ADMIN else {},
        )
    return render(request, "elders/report.html", user, report=report, keep=csv_io.KEEP_REFUSED)


@router.get("/elders/import/refused/{token}.csv")
def refused_rows(token: str, user: OperatorUser) -> Response:
    """The refused rows of one's import, with a reason column, to fix and upload again."""
    path = csv_io.refused_file(user, token)
    if path is None:
        raise NotFound("these refused rows are gone (kept one day); import the file again")
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename="refused-rows.csv")


@router.get("/elders/export.csv")
def export_csv(request: Request, user: OperatorUser, rt: RuntimeDep) -> Response:
    """The register of the elders one manages, in the import's format (streamed)."""
    lang = page_lang(request, user)
    area = _int(request.query_params.get("area"))
    rows = csv_io.export_stream(rt, user, lang, area)
    return StreamingResponse(
        csv_io.lines_of(rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="elders.csv"'},
    )

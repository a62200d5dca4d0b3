"""The administration pages (``/admin``): home, organisations, staff and the audit log.

Forms post back to their own address; a refused value re-shows the form with the message
beside the field and everything typed kept. Only administrators see these pages.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from protocol import Lang, Role, SosStatus
from server.admin import organisations as orgs
from server.admin import staff
from server.admin.audit_log import (
    AuditQuery,
    action_label,
    known_actions,
    parse_date,
    search,
)
from server.admin.errors import FieldProblem
from server.admin.staff_mail import after_create, after_deactivate, mail_configured
from server.api.deps import FormDep, RuntimeDep, SessionDep
from server.errors import Conflict
from server.ids import RowId, form_row_id
from server.models import (
    Clinic,
    Elder,
    ServiceArea,
    ServicePoint,
    ServicePointKind,
    SosAlert,
    User,
)
from server.roles import POINT_KINDS, ROLE_SCOPE, scope_id
from server.web.pages import AdminForm, AdminUser, page_lang, render
from server.web.when import COMMON_ZONES, staff_zone

router = APIRouter(include_in_schema=False)
DEFAULT_CENTRE = (39.9042, 116.4074)  # Beijing, where the map opens when nothing is set


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _problem_page(
    request: Request, template: str, user: User, problem: FieldProblem, **context: Any
) -> HTMLResponse:
    lang = page_lang(request, user)
    return render(
        request,
        template,
        user,
        status=problem.status,
        errors={problem.field: problem.text(lang)},
        **context,
    )


def _map(request: Request) -> dict[str, Any]:
    rt = request.app.state.rt
    return {
        "tile_url": rt.settings.map_tile_url,
        "default_centre": DEFAULT_CENTRE,
        "zones": COMMON_ZONES,
    }


def _zone(form: FormData) -> str:
    """The zone a form chose: the typed one if any, else the one picked from the list."""
    return _text(form, "timezone_other") or _text(form, "timezone")


# --- home ------------------------------------------------------------------------------


@router.get("/admin")
def home(request: Request, db: SessionDep, user: AdminUser, rt: RuntimeDep) -> HTMLResponse:
    """The administrator's home: counts of everything administered (boxes online and open
    SOS included), and the way to each administration page."""

    def count(model: Any, *where: Any) -> int:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    counts = {
        "areas": count(ServiceArea, ServiceArea.is_active.is_(True)),
        "clinics": count(Clinic, Clinic.is_active.is_(True)),
        "points": count(ServicePoint, ServicePoint.is_active.is_(True)),
        "elders_active": count(Elder, Elder.is_active.is_(True)),
        "elders_inactive": count(Elder, Elder.is_active.is_(False)),
        "boxes_online": rt.presence.hub.devices_online(),
        "open_sos": count(SosAlert, SosAlert.status != SosStatus.RESOLVED),
    }
    return render(
        request, "admin/home.html", user, counts=counts, staff_counts=staff.count_by_role(db)
    )


# --- service areas ---------------------------------------------------------------------


@router.get("/admin/areas")
def areas(request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """Every service area with its elders and operators."""
    return render(request, "admin/areas.html", user, rows=orgs.area_rows(db))


def _area_values(area: ServiceArea | None) -> dict[str, Any]:
    if area is None:
        return {"name": "", "centre_latitude": "", "centre_longitude": "", "boundary": ""}
    return {
        "timezone": area.timezone,
        "name": area.name,
        "centre_latitude": "" if area.centre_latitude is None else area.centre_latitude,
        "centre_longitude": "" if area.centre_longitude is None else area.centre_longitude,
        "boundary": area.boundary_geojson,
    }


@router.get("/admin/areas/new")
def new_area(request: Request, user: AdminUser) -> HTMLResponse:
    """The form for a new service area."""
    return render(
        request, "admin/area_form.html", user, area=None, values=_area_values(None), **_map(request)
    )


@router.post("/admin/areas/new", response_model=None)
def create_area(request: Request, db: SessionDep, user: AdminForm, form: FormDep) -> Response:
    """Save a new service area."""
    return _save_area(request, db, user, form, None)


@router.get("/admin/areas/{area_id}")
def edit_area(area_id: RowId, request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """The form of one service area."""
    area = orgs.get(db, ServiceArea, area_id)
    return render(
        request, "admin/area_form.html", user, area=area, values=_area_values(area), **_map(request)
    )


@router.post("/admin/areas/{area_id}", response_model=None)
def update_area(
    area_id: RowId, request: Request, db: SessionDep, user: AdminForm, form: FormDep
) -> Response:
    """Save a service area."""
    area = orgs.get(db, ServiceArea, area_id)
    return _save_area(request, db, user, form, area)


def _save_area(
    request: Request, db: Session, user: User, form: FormData, area: ServiceArea | None
) -> Response:
    fields = ("name", "centre_latitude", "centre_longitude", "boundary", "timezone")
    values = {k: _text(form, k) for k in (*fields, "timezone_other")}
    try:
        saved = orgs.save_area(
            db,
            user,
            area,
            name=values["name"],
            latitude=values["centre_latitude"],
            longitude=values["centre_longitude"],
            boundary=values["boundary"],
            timezone=_zone(form),
        )
    except FieldProblem as problem:
        db.rollback()
        return _problem_page(
            request,
            "admin/area_form.html",
            user,
            problem,
            area=area,
            values=values,
            **_map(request),
        )
    return _redirect(f"/admin/areas?saved={saved.id}")


def _activation(kind: Any, back: str) -> tuple[Any, Any]:
    def deactivate(row_id: RowId, db: SessionDep, user: AdminForm) -> RedirectResponse:
        orgs.set_active(db, user, orgs.get(db, kind, row_id), False)
        return _redirect(back)

    def reactivate(row_id: RowId, request: Request, db: SessionDep, user: AdminForm) -> Response:
        row = orgs.get(db, kind, row_id)
        try:
            orgs.set_active(db, user, row, True)
        except FieldProblem as problem:
            db.rollback()
            lang = page_lang(request, user)
            raise Conflict(problem.text(lang)) from None
        return _redirect(back)

    return deactivate, reactivate


for _kind, _path, _back in (
    (ServiceArea, "/admin/areas/{row_id}", "/admin/areas"),
    (Clinic, "/admin/clinics/{row_id}", "/admin/clinics"),
    (ServicePoint, "/admin/service-points/{row_id}", "/admin/service-points"),
):
    _off, _on = _activation(_kind, _back)
    router.add_api_route(f"{_path}/deactivate", _off, methods=["POST"], response_model=None)
    router.add_api_route(f"{_path}/reactivate", _on, methods=["POST"], response_model=None)


# --- clinics ---------------------------------------------------------------------------


@router.get("/admin/clinics")
def clinics(request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """Every clinic."""
    return render(request, "admin/clinics.html", user, rows=orgs.listing(db, Clinic))


def _place_values(row: Clinic | ServicePoint | None) -> dict[str, Any]:
    if row is None:
        return {
            "name": "",
            "address": "",
            "phone": "",
            "latitude": "",
            "longitude": "",
            "kind": "",
            "service_area_id": "",
        }
    return {
        "name": row.name,
        "address": row.address,
        "phone": getattr(row, "phone", ""),
        "latitude": "" if row.latitude is None else row.latitude,
        "longitude": "" if row.longitude is None else row.longitude,
        "kind": getattr(getattr(row, "kind", None), "value", ""),
        "service_area_id": getattr(row, "service_area_id", None) or "",
        "timezone": getattr(row, "timezone", ""),
    }


def _clinic_people(db: Session, clinic: Clinic | None) -> list[User]:
    if clinic is None:
        return []
    roles = [r for r, s in ROLE_SCOPE.items() if s.value == "clinic"]
    return list(
        db.scalars(
            select(User)
            .where(User.clinic_id == clinic.id, User.role.in_(roles))
            .order_by(User.role, User.name)
        )
    )


def _clinic_page(
    request: Request, db: Session, user: User, clinic: Clinic | None, **extra: Any
) -> dict[str, Any]:
    return {"clinic": clinic, "people": _clinic_people(db, clinic), **_map(request), **extra}


@router.get("/admin/clinics/new")
def new_clinic(request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """The form for a new clinic."""
    context = _clinic_page(request, db, user, None, values=_place_values(None))
    return render(request, "admin/clinic_form.html", user, **context)


@router.post("/admin/clinics/new", response_model=None)
def create_clinic(request: Request, db: SessionDep, user: AdminForm, form: FormDep) -> Response:
    """Save a new clinic."""
    return _save_clinic(request, db, user, form, None)


@router.get("/admin/clinics/{clinic_id}")
def edit_clinic(
    clinic_id: RowId, request: Request, db: SessionDep, user: AdminUser
) -> HTMLResponse:
    """One clinic, its doctors and staff."""
    clinic = orgs.get(db, Clinic, clinic_id)
    context = _clinic_page(request, db, user, clinic, values=_place_values(clinic))
    return render(request, "admin/clinic_form.html", user, **context)


@router.post("/admin/clinics/{clinic_id}", response_model=None)
def update_clinic(
    clinic_id: RowId, request: Request, db: SessionDep, user: AdminForm, form: FormDep
) -> Response:
    """Save a clinic."""
    clinic = orgs.get(db, Clinic, clinic_id)
    return _save_clinic(request, db, user, form, clinic)


def _save_clinic(
    request: Request, db: Session, user: User, form: FormData, clinic: Clinic | None
) -> Response:
    values = {k: _text(form, k) for k in ("name", "address", "phone", "latitude", "longitude")}
    try:
        saved = orgs.save_clinic(db, user, clinic, **values, timezone=_zone(form))
    except FieldProblem as problem:
        db.rollback()
        typed = {
            "timezone": _text(form, "timezone"),
            "timezone_other": _text(form, "timezone_other"),
        }
        context = _clinic_page(request, db, user, clinic, values={**values, **typed})
        return _problem_page(request, "admin/clinic_form.html", user, problem, **context)
    return _redirect(f"/admin/clinics?saved={saved.id}")


# --- service points --------------------------------------------------------------------


@router.get("/admin/service-points")
def points(request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """Every meal point, care centre and service provider."""
    areas = {a.id: a for a in orgs.listing(db, ServiceArea)}
    return render(
        request, "admin/points.html", user, rows=orgs.listing(db, ServicePoint), areas=areas
    )


def _point_page(request: Request, db: Session, **extra: Any) -> dict[str, Any]:
    active_areas = [a for a in orgs.listing(db, ServiceArea) if a.is_active]
    return {"kinds": list(ServicePointKind), "areas": active_areas, **_map(request), **extra}


@router.get("/admin/service-points/new")
def new_point(request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """The form for a new service point."""
    context = _point_page(request, db, point=None, values=_place_values(None))
    return render(request, "admin/point_form.html", user, **context)


@router.post("/admin/service-points/new", response_model=None)
def create_point(request: Request, db: SessionDep, user: AdminForm, form: FormDep) -> Response:
    """Save a new service point."""
    return _save_point(request, db, user, form, None)


@router.get("/admin/service-points/{point_id}")
def edit_point(point_id: RowId, request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """One service point."""
    point = orgs.get(db, ServicePoint, point_id)
    context = _point_page(request, db, point=point, values=_place_values(point))
    return render(request, "admin/point_form.html", user, **context)


@router.post("/admin/service-points/{point_id}", response_model=None)
def update_point(
    point_id: RowId, request: Request, db: SessionDep, user: AdminForm, form: FormDep
) -> Response:
    """Save a service point."""
    point = orgs.get(db, ServicePoint, point_id)
    return _save_point(request, db, user, form, point)


def _save_point(
    request: Request, db: Session, user: User, form: FormData, point: ServicePoint | None
) -> Response:
    fields = ("kind", "name", "address", "service_area_id", "latitude", "longitude")
    values = {k: _text(form, k) for k in fields}
    try:
        saved = orgs.save_point(
            db,
            user,
            point,
            kind=values["kind"],
            name=values["name"],
            address=values["address"],
            area_id=values["service_area_id"],
            latitude=values["latitude"],
            longitude=values["longitude"],
        )
    except FieldProblem as problem:
        db.rollback()
        context = _point_page(request, db, point=point, values=values)
        return _problem_page(request, "admin/point_form.html", user, problem, **context)
    return _redirect(f"/admin/service-points?saved={saved.id}")


# --- staff -----------------------------------------------------------------------------


def _organisations(db: Session) -> dict[str, list[Any]]:
    """The active organisations each role may be scoped to, for the form's selects."""
    active_points = [p for p in orgs.listing(db, ServicePoint) if p.is_active]
    return {
        "area": [a for a in orgs.listing(db, ServiceArea) if a.is_active],
        "clinic": [c for c in orgs.listing(db, Clinic) if c.is_active],
        "meal_point": [p for p in active_points if p.kind is ServicePointKind.MEAL_POINT],
        "service_provider": [
            p for p in active_points if p.kind is ServicePointKind.SERVICE_PROVIDER
        ],
    }


# Which select of the form holds the organisation of each role.
ROLE_SELECT = {
    Role.OPERATOR: "area",
    Role.DOCTOR: "clinic",
    Role.CLINIC_STAFF: "clinic",
    Role.MEAL_STAFF: "meal_point",
    Role.SERVICE_WORKER: "service_provider",
}
assert set(ROLE_SELECT) == set(ROLE_SCOPE) and set(POINT_KINDS) <= set(ROLE_SELECT)


def _org_names(db: Session) -> dict[str, str]:
    names: dict[str, str] = {}
    for a in orgs.listing(db, ServiceArea):
        names[f"area:{a.id}"] = a.name
    for c in orgs.listing(db, Clinic):
        names[f"clinic:{c.id}"] = c.name
    for p in orgs.listing(db, ServicePoint):
        names[f"point:{p.id}"] = p.name
    return names


def _org_key(user: User) -> str:
    scope = ROLE_SCOPE.get(user.role)
    if scope is None:
        return ""
    prefix = {"area": "area", "clinic": "clinic", "service_point": "point"}[scope.value]
    return f"{prefix}:{scope_id(user)}"


def _staff_form_context(db: Session, request: Request, **extra: Any) -> dict[str, Any]:
    return {
        "roles": list(staff.ADMIN_ROLES),
        "role_select": {r.value: s for r, s in ROLE_SELECT.items()},
        "organisations": _organisations(db),
        "langs": list(Lang),
        **extra,
    }


def _staff_values(db: Session, user: User | None) -> dict[str, Any]:
    if user is None:
        return {
            "name": "",
            "email": "",
            "phone": "",
            "lang": "zh",
            "role": "operator",
            "organisation_id": "",
            "supervisor": False,
        }
    return {
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "lang": user.lang.value,
        "role": user.role.value,
        "organisation_id": scope_id(user) or "",
        "supervisor": staff.is_supervisor(db, user),
    }


def _staff_form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: _text(form, k) for k in ("name", "email", "phone", "lang", "role")}
    roles = {r.value: r for r in Role}
    select_name = ROLE_SELECT.get(roles[values["role"]]) if values["role"] in roles else None
    values["organisation_id"] = _text(form, f"organisation_{select_name}") if select_name else ""
    values["supervisor"] = _text(form, "supervisor") == "on"
    return values


@router.get("/admin/staff")
def staff_list(request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """Staff accounts, filtered by role, organisation, active, name or e-mail; paged."""
    params = request.query_params
    role_value = params.get("role", "")
    active_value = params.get("active", "yes")
    page = form_row_id(params.get("page", "1")) or 1
    query = staff.StaffQuery(
        role=Role(role_value) if role_value in {r.value for r in staff.ADMIN_ROLES} else None,
        organisation=params.get("organisation", "")[:40],
        active={"yes": True, "no": False}.get(active_value),
        search=params.get("q", "")[:100],
        page=page,
    )
    rows, total = staff.staff_page(db, query)
    return render(
        request,
        "admin/staff.html",
        user,
        rows=rows,
        total=total,
        query=query,
        active_value=active_value,
        pages=max(1, -(-total // staff.PAGE_SIZE)),
        org_names=_org_names(db),
        org_key=_org_key,
        roles=list(staff.ADMIN_ROLES),
        organisations=_organisations(db),
    )


@router.get("/admin/staff/new")
def new_staff(request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """The form for a new staff account."""
    context = _staff_form_context(db, request, person=None, values=_staff_values(db, None))
    return render(request, "admin/staff_form.html", user, **context)


@router.post("/admin/staff/new", response_model=None)
def create_staff(
    request: Request, db: SessionDep, user: AdminForm, form: FormDep, rt: RuntimeDep
) -> Response:
    """Create the account and e-mail its set-your-password link."""
    values = _staff_form_values(form)
    try:
        new = staff.create_staff(
            db,
            user,
            rt.settings.secret_key,
            rt.settings.public_base_url,
            name=values["name"],
            email=values["email"],
            phone=values["phone"],
            lang=values["lang"],
            role=values["role"],
            organisation_id=values["organisation_id"],
            supervisor=values["supervisor"],
        )
    except FieldProblem as problem:
        db.rollback()
        context = _staff_form_context(db, request, person=None, values=values)
        return _problem_page(request, "admin/staff_form.html", user, problem, **context)
    shown_url = after_create(db, rt, new)
    return render(
        request,
        "admin/staff_created.html",
        user,
        person=new.user,
        set_password_url=shown_url,
        mail_configured=mail_configured(rt),
    )


@router.get("/admin/staff/{user_id}")
def edit_staff(user_id: RowId, request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """One staff account."""
    person = staff.get_staff(db, user_id)
    context = _staff_form_context(db, request, person=person, values=_staff_values(db, person))
    return render(request, "admin/staff_form.html", user, **context)


@router.post("/admin/staff/{user_id}", response_model=None)
def update_staff(
    user_id: RowId, request: Request, db: SessionDep, user: AdminForm, form: FormDep
) -> Response:
    """Save a staff account's role, organisation and details."""
    person = staff.get_staff(db, user_id)
    values = _staff_form_values(form)
    values["email"] = person.email
    try:
        staff.update_staff(
            db,
            user,
            person,
            name=values["name"],
            phone=values["phone"],
            lang=values["lang"],
            role=values["role"],
            organisation_id=values["organisation_id"],
            supervisor=values["supervisor"],
        )
    except (FieldProblem, Conflict) as problem:
        db.rollback()
        return _staff_refused(request, db, user, person, problem, values)
    return _redirect(f"/admin/staff?saved={person.id}")


def _staff_refused(
    request: Request,
    db: Session,
    user: User,
    person: User,
    problem: FieldProblem | Conflict,
    values: dict[str, Any],
) -> HTMLResponse:
    context = _staff_form_context(db, request, person=person, values=values)
    if isinstance(problem, FieldProblem):
        return _problem_page(request, "admin/staff_form.html", user, problem, **context)
    return render(
        request,
        "admin/staff_form.html",
        user,
        status=problem.status,
        errors={"form": problem.message},
        **context,
    )


@router.post("/admin/staff/{user_id}/deactivate", response_model=None)
def deactivate_staff(
    user_id: RowId, request: Request, db: SessionDep, user: AdminForm, rt: RuntimeDep
) -> Response:
    """Deactivate the account: sessions and open pages end at once."""
    person = staff.get_staff(db, user_id)
    try:
        staff.deactivate(db, user, person)
    except Conflict as problem:
        db.rollback()
        return _staff_refused(request, db, user, person, problem, _staff_values(db, person))
    after_deactivate(db, rt, person.id)
    return _redirect(f"/admin/staff/{person.id}")


@router.post("/admin/staff/{user_id}/reactivate", response_model=None)
def reactivate_staff(user_id: RowId, db: SessionDep, user: AdminForm) -> RedirectResponse:
    """Let the account log in again."""
    person = staff.get_staff(db, user_id)
    staff.reactivate(db, user, person)
    return _redirect(f"/admin/staff/{person.id}")


# --- audit -----------------------------------------------------------------------------


@router.get("/admin/audit")
def audit(request: Request, db: SessionDep, user: AdminUser) -> HTMLResponse:
    """Who did what, newest first, 50 a page, with filters."""
    params = request.query_params
    lang = page_lang(request, user)
    zone = staff_zone(db, user, request)  # the administrator's own (their browser's)
    errors: dict[str, str] = {}
    dates = {}
    for name in ("from", "to"):
        try:
            dates[name] = parse_date(params.get(name, "")[:10], name)
        except FieldProblem as problem:
            errors[name] = problem.text(lang)
            dates[name] = None
    elder_text = params.get("elder", "").strip()
    elder_id = form_row_id(elder_text) if elder_text else None
    if elder_text and elder_id is None:
        errors["elder"] = problem_text(lang, "elder")
    query = AuditQuery(
        actor=params.get("actor", "")[:100],
        action=params.get("action", "")[:60],
        elder_id=elder_id,
        target=params.get("target", "")[:60],
        date_from=dates["from"],
        date_to=dates["to"],
        page=form_row_id(params.get("page", "1")) or 1,
        zone=zone,
    )
    rows, total = search(db, query)
    return render(
        request,
        "admin/audit.html",
        user,
        status=422 if errors else 200,
        errors=errors,
        rows=rows,
        total=total,
        query=query,
        params={k: params.get(k, "") for k in ("actor", "action", "elder", "target", "from", "to")},
        actions=known_actions(db),
        label=lambda action: action_label(lang, action),
        zone=zone,
        pages=max(1, -(-total // 50)),
    )


def problem_text(lang: Lang, field: str) -> str:
    """The message of a filter that is not a number."""
    return FieldProblem(field, "admin.error.not_a_number").text(lang)

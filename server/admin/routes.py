"""The administration API (``/api/admin/...``): administrators only, JSON twins of the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from protocol import Role
from server.admin import organisations as orgs
from server.admin import staff
from server.admin.audit_log import AuditQuery, parse_date, search
from server.admin.schemas import (
    AreaCreate,
    AreaPublic,
    AreaUpdate,
    AuditEntryPublic,
    ClinicCreate,
    ClinicPublic,
    ClinicUpdate,
    ServicePointCreate,
    ServicePointPublic,
    ServicePointUpdate,
    StaffCreate,
    StaffCreated,
    StaffPublic,
    StaffUpdate,
)
from server.admin.staff_mail import after_create, after_deactivate
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.errors import Forbidden
from server.ids import MAX_ROW_ID, RowId
from server.models import Clinic, ServiceArea, ServicePoint, User
from server.roles import scope_id

# Every route may answer these (a write's body refused: 422, a name or e-mail taken: 409).
router = APIRouter(
    prefix="/api/admin", tags=["admin"], responses=answers(400, 401, 403, 404, 409, 422)
)


def admin_user(user: CurrentUser) -> User:
    """The caller, who must be an administrator."""
    if user.role is not Role.ADMIN:
        raise Forbidden("only administrators may do this")
    return user


Admin = Annotated[User, Depends(admin_user)]


@router.get("/areas", response_model=list[AreaPublic])
def list_areas(db: SessionDep, admin: Admin) -> list[ServiceArea]:
    """Every service area."""
    return [row.area for row in orgs.area_rows(db)]


@router.post("/areas", response_model=AreaPublic, status_code=201)
def create_area(body: AreaCreate, db: SessionDep, admin: Admin) -> ServiceArea:
    """A new service area."""
    return orgs.save_area(
        db,
        admin,
        None,
        name=body.name,
        latitude=body.centre_latitude,
        longitude=body.centre_longitude,
        boundary=body.boundary_geojson,
        timezone=body.timezone,
    )


@router.get("/areas/{area_id}", response_model=AreaPublic)
def read_area(area_id: RowId, db: SessionDep, admin: Admin) -> ServiceArea:
    """One service area."""
    return orgs.get(db, ServiceArea, area_id)


@router.patch("/areas/{area_id}", response_model=AreaPublic)
def update_area(area_id: RowId, body: AreaUpdate, db: SessionDep, admin: Admin) -> ServiceArea:
    """Change a service area (``is_active`` deactivates or reactivates it)."""
    area = orgs.get(db, ServiceArea, area_id)
    sent = body.model_fields_set
    orgs.save_area(
        db,
        admin,
        area,
        name=body.name if "name" in sent else area.name,
        latitude=body.centre_latitude if "centre_latitude" in sent else area.centre_latitude,
        longitude=body.centre_longitude if "centre_longitude" in sent else area.centre_longitude,
        boundary=body.boundary_geojson if "boundary_geojson" in sent else area.boundary_geojson,
        timezone=body.timezone if body.timezone is not None else area.timezone,
    )
    if body.is_active is not None:
        orgs.set_active(db, admin, area, body.is_active)
    return area


@router.get("/clinics", response_model=list[ClinicPublic])
def list_clinics(db: SessionDep, admin: Admin) -> list[object]:
    """Every clinic."""
    return list(orgs.listing(db, Clinic))


@router.post("/clinics", response_model=ClinicPublic, status_code=201)
def create_clinic(body: ClinicCreate, db: SessionDep, admin: Admin) -> Clinic:
    """A new clinic."""
    return orgs.save_clinic(db, admin, None, **body.model_dump())


@router.get("/clinics/{clinic_id}", response_model=ClinicPublic)
def read_clinic(clinic_id: RowId, db: SessionDep, admin: Admin) -> object:
    """One clinic."""
    return orgs.get(db, Clinic, clinic_id)


@router.patch("/clinics/{clinic_id}", response_model=ClinicPublic)
def update_clinic(clinic_id: RowId, body: ClinicUpdate, db: SessionDep, admin: Admin) -> Clinic:
    """Change a clinic."""
    clinic = orgs.get(db, Clinic, clinic_id)
    fields = ("name", "address", "phone", "latitude", "longitude", "timezone")
    values = {k: getattr(clinic, k) for k in fields}
    fhir = {"fhir_base_url", "fhir_auth_header"}
    values.update(body.model_dump(include=body.model_fields_set - {"is_active"} - fhir))
    if values["timezone"] is None:  # an explicit null keeps the zone
        values["timezone"] = clinic.timezone
    orgs.save_clinic(db, admin, clinic, **values)
    if body.model_fields_set & fhir:
        orgs.set_clinic_fhir(
            db, admin, clinic, body.fhir_base_url, body.fhir_auth_header, body.model_fields_set
        )
    if body.is_active is not None:
        orgs.set_active(db, admin, clinic, body.is_active)
    return clinic


@router.get("/service-points", response_model=list[ServicePointPublic])
def list_points(db: SessionDep, admin: Admin) -> list[object]:
    """Every service point."""
    return list(orgs.listing(db, ServicePoint))


@router.post("/service-points", response_model=ServicePointPublic, status_code=201)
def create_point(body: ServicePointCreate, db: SessionDep, admin: Admin) -> ServicePoint:
    """A new meal point, care centre or service provider."""
    values = body.model_dump()
    values["area_id"] = values.pop("service_area_id")
    return orgs.save_point(db, admin, None, **values)


@router.get("/service-points/{point_id}", response_model=ServicePointPublic)
def read_point(point_id: RowId, db: SessionDep, admin: Admin) -> object:
    """One service point."""
    return orgs.get(db, ServicePoint, point_id)


@router.patch("/service-points/{point_id}", response_model=ServicePointPublic)
def update_point(
    point_id: RowId, body: ServicePointUpdate, db: SessionDep, admin: Admin
) -> ServicePoint:
    """Change a service point."""
    point = orgs.get(db, ServicePoint, point_id)
    fields = ("kind", "name", "address", "service_area_id", "latitude", "longitude")
    values = {k: getattr(point, k) for k in fields}
    values.update(body.model_dump(include=body.model_fields_set - {"is_active"}))
    values["area_id"] = values.pop("service_area_id")
    orgs.save_point(db, admin, point, **values)
    if body.is_active is not None:
        orgs.set_active(db, admin, point, body.is_active)
    return point


def staff_public(db: Session, user: User) -> StaffPublic:
    """A staff account as JSON."""
    return StaffPublic(
        id=user.id,
        name=user.name,
        email=user.email,
        phone=user.phone,
        lang=user.lang,
        role=user.role,
        organisation_id=scope_id(user),
        supervisor=staff.is_supervisor(db, user),
        is_active=user.is_active,
        deactivated_at=user.deactivated_at,
        created_at=user.created_at,
    )


@router.get("/users", response_model=list[StaffPublic])
def list_users(
    db: SessionDep,
    admin: Admin,
    role: Role | None = None,
    organisation: str = "",
    active: bool | None = None,
    q: str = Query(default="", max_length=100),
    page: int = Query(default=1, ge=1, le=100_000),
) -> list[StaffPublic]:
    """Staff accounts, filtered (``organisation`` as ``area:3``, ``clinic:1``...)."""
    query = staff.StaffQuery(role, organisation, active, q, page)
    rows, _ = staff.staff_page(db, query)
    return [staff_public(db, u) for u in rows]


@router.post("/users", response_model=StaffCreated, status_code=201)
def create_user(body: StaffCreate, db: SessionDep, admin: Admin, rt: RuntimeDep) -> StaffCreated:
    """A new staff account; a set-your-password e-mail goes out."""
    new = staff.create_staff(
        db,
        admin,
        rt.settings.secret_key,
        rt.settings.public_base_url,
        name=body.name,
        email=body.email,
        phone=body.phone,
        lang=body.lang,
        role=body.role,
        organisation_id=body.organisation_id,
        supervisor=body.supervisor,
    )
    public = staff_public(db, new.user)
    shown_url = after_create(db, rt, new)
    return StaffCreated(**public.model_dump(), email_queued=True, set_password_url=shown_url)


@router.get("/users/{user_id}", response_model=StaffPublic)
def read_user(user_id: RowId, db: SessionDep, admin: Admin) -> StaffPublic:
    """One staff account."""
    return staff_public(db, staff.get_staff(db, user_id))


@router.patch("/users/{user_id}", response_model=StaffPublic)
def update_user(user_id: RowId, body: StaffUpdate, db: SessionDep, admin: Admin) -> StaffPublic:
    """Change a staff account (a new role needs its organisation)."""
    user = staff.get_staff(db, user_id)
    sent = body.model_fields_set
    staff.update_staff(
        db,
        admin,
        user,
        name=body.name if "name" in sent else user.name,
        phone=body.phone if "phone" in sent else user.phone,
        lang=body.lang if "lang" in sent else user.lang,
        role=body.role if "role" in sent else user.role,
        organisation_id=body.organisation_id if "organisation_id" in sent else scope_id(user),
        supervisor=(
            body.supervisor if body.supervisor is not None else staff.is_supervisor(db, user)
        ),
    )
    return staff_public(db, user)


@router.post("/users/{user_id}/deactivate", response_model=StaffPublic)
def deactivate_user(user_id: RowId, db: SessionDep, admin: Admin, rt: RuntimeDep) -> StaffPublic:
    """Stop the account: its sessions and open pages end at once."""
    user = staff.get_staff(db, user_id)
    staff.deactivate(db, admin, user)
    after_deactivate(db, rt, user.id)
    return staff_public(db, user)


@router.post("/users/{user_id}/reactivate", response_model=StaffPublic)
def reactivate_user(user_id: RowId, db: SessionDep, admin: Admin) -> StaffPublic:
    """Let the account log in again."""
    user = staff.get_staff(db, user_id)
    staff.reactivate(db, admin, user)
    return staff_public(db, user)


@router.get("/audit", response_model=list[AuditEntryPublic])
def audit(
    db: SessionDep,
    admin: Admin,
    actor: str = Query(default="", max_length=100),
    action: str = Query(default="", max_length=60),
    elder_id: int | None = Query(default=None, ge=1, le=MAX_ROW_ID),
    target: str = Query(default="", max_length=60),
    date_from: str = Query(default="", alias="from", max_length=10),
    date_to: str = Query(default="", alias="to", max_length=10),
    page: int = Query(default=1, ge=1, le=100_000),
) -> list[AuditEntryPublic]:
    """Audit entries, newest first, 50 a page; dates are Asia/Shanghai days."""
    query = AuditQuery(
        actor,
        action,
        elder_id,
        target,
        parse_date(date_from, "from"),
        parse_date(date_to, "to"),
        page,
    )
    rows, _ = search(db, query)
    return [
        AuditEntryPublic(
            id=r.entry.id,
            at=r.entry.at,
            actor_user_id=r.entry.actor_user_id,
            actor=r.actor_email or r.actor,
            action=r.entry.action,
            elder_id=r.entry.elder_id,
            target=r.entry.target,
            detail=r.entry.detail,
        )
        for r in rows
    ]

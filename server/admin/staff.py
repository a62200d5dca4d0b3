"""Staff accounts: one mechanism for every role scoped to one organisation.

An administrator names the person, their role and the organisation the role belongs to
(`server.roles`: an operator's service area, a doctor's clinic, a meal point…). The account
starts with no usable password; a single-use link to set one is e-mailed (and shown to the
administrator when the server has no mail server, so a deployment without mail still works).
Deactivating ends the person's sessions and live page sockets at once.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server.accounts import end_all_sessions, normalise_email
from server.admin.errors import DuplicateName, FieldProblem
from server.admin.organisations import clean_name, optional_id
from server.audit import record
from server.errors import Conflict, NotFound
from server.links import INVITE_TTL, issue_link, link_url
from server.models import (
    AreaSupervisor,
    Clinic,
    LinkPurpose,
    ServiceArea,
    ServicePoint,
    User,
    utcnow,
)
from server.notify import Email
from server.outgoing import queue_email
from server.roles import POINT_KINDS, ROLE_SCOPE, Scope, scope_id, set_scope
from server.web.i18n import translate

# The roles an administrator gives from the staff pages (families come by invitation).
ADMIN_ROLES = (
    Role.OPERATOR,
    Role.DOCTOR,
    Role.CLINIC_STAFF,
    Role.MEAL_STAFF,
    Role.SERVICE_WORKER,
    Role.ADMIN,
)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PAGE_SIZE = 50


def unusable_password_hash() -> str:
    """A stored hash no password matches (not argon2: verifying it always fails)."""
    return "!unset:" + secrets.token_hex(16)


def check_role(value: object) -> Role:
    """A role an administrator may give."""
    try:
        role = Role(str(value))
    except ValueError:
        raise FieldProblem("role", "admin.error.choose") from None
    if role not in ADMIN_ROLES:
        raise FieldProblem("role", "admin.error.choose")
    return role


def check_organisation(db: Session, role: Role, value: object) -> int | None:
    """The organisation id ``role`` is scoped to, checked: it exists, is active, fits."""
    scope = ROLE_SCOPE.get(role)
    if scope is None:
        return None
    org_id = optional_id(value, "organisation_id")
    if org_id is None:
        raise FieldProblem("organisation_id", f"admin.error.organisation_{scope.value}")
    row: ServiceArea | Clinic | ServicePoint | None
    if scope is Scope.AREA:
        row = db.get(ServiceArea, org_id)
    elif scope is Scope.CLINIC:
        row = db.get(Clinic, org_id)
    else:
        row = db.get(ServicePoint, org_id)
    if row is None or not row.is_active:
        raise FieldProblem("organisation_id", "admin.error.unknown_organisation")
    if isinstance(row, ServicePoint) and role in POINT_KINDS and row.kind != POINT_KINDS[role]:
        raise FieldProblem("organisation_id", "admin.error.wrong_point_kind")
    return org_id


def check_email(db: Session, value: str | None, own_id: int | None = None) -> str:
    """A well-formed e-mail address no other account uses."""
    email = normalise_email(value or "")
    if not email:
        raise FieldProblem("email", "admin.error.required")
    if len(email) > 255 or not EMAIL_PATTERN.match(email):
        raise FieldProblem("email", "admin.error.bad_email")
    query = select(User.id).where(func.lower(User.email) == email)
    if own_id is not None:
        query = query.where(User.id != own_id)
    if db.scalar(query.limit(1)) is not None:
        raise DuplicateName("email", "admin.error.duplicate_email", email=email)
    return email


def check_lang(value: object) -> Lang:
    """A page language."""
    try:
        return Lang(str(value or Lang.ZH.value))
    except ValueError:
        raise FieldProblem("lang", "admin.error.choose") from None


def is_supervisor(db: Session, user: User) -> bool:
    """Whether the operator supervises their area (the last SOS escalation level)."""
    if user.role is not Role.OPERATOR or user.service_area_id is None:
        return False
    return (
        db.scalar(
            select(AreaSupervisor.id).where(
                AreaSupervisor.user_id == user.id,
                AreaSupervisor.service_area_id == user.service_area_id,
            )
        )
        is not None
    )


def _set_supervisor(db: Session, user: User, wanted: bool) -> None:
    # Supervision follows the operator's one area: any other row is stale.
    db.execute(delete(AreaSupervisor).where(AreaSupervisor.user_id == user.id))
    if wanted and user.role is Role.OPERATOR and user.service_area_id is not None:
        db.add(AreaSupervisor(service_area_id=user.service_area_id, user_id=user.id))
    db.flush()


@dataclass
class NewStaff:
    """A created account, its queued e-mail and the link it carries."""

    user: User
    mail_id: int
    url: str


def create_staff(
    db: Session,
    admin: User,
    secret_key: str,
    base_url: str,
    *,
    name: str | None,
    email: str | None,
    phone: str | None,
    lang: object,
    role: object,
    organisation_id: object,
    supervisor: bool,
) -> NewStaff:
    """A new staff account and its queued set-your-password e-mail (deliver after commit)."""
    text = clean_name(name)
    address = check_email(db, email)
    checked_role = check_role(role)
    org = check_organisation(db, checked_role, organisation_id)
    language = check_lang(lang)
    user = User(
        email=address,
        name=text,
        password_hash=unusable_password_hash(),
        role=checked_role,
        lang=language,
        phone=(phone or "").strip()[:40],
    )
    set_scope(user, checked_role, org)
    db.add(user)
    db.flush()
    _set_supervisor(db, user, supervisor)
    token, link = issue_link(
        db,
        secret_key,
        LinkPurpose.RESET,
        address,
        user_id=user.id,
        created_by=admin,
        ttl=INVITE_TTL,
    )
    url = link_url(base_url, LinkPurpose.RESET, token, language.value)
    mail = Email(
        to=address,
        subject=translate(language, "admin.mail.subject"),
        body=translate(
            language,
            "admin.mail.body",
            name=text,
            admin=admin.name,
            role=translate(language, f"role.{checked_role.value}"),
            url=url,
            days=INVITE_TTL.days,
        ),
    )
    mail_id = queue_email(db, mail, f"staff-invite:{link.id}")
    record(
        db,
        "admin.user.create",
        None,
        user=admin,
        target=f"user:{user.id}",
        detail=f"role={checked_role.value} org={org or ''} supervisor={supervisor}",
    )
    return NewStaff(user, mail_id, url)


def update_staff(
    db: Session,
    admin: User,
    user: User,
    *,
    name: str | None,
    phone: str | None,
    lang: object,
    role: object,
    organisation_id: object,
    supervisor: bool,
) -> User:
    """Change a staff account's name, phone, language, role, organisation, supervision."""
    text = clean_name(name)
    checked_role = check_role(role)
    org = check_organisation(db, checked_role, organisation_id)
    language = check_lang(lang)
    if user.role is Role.ADMIN and checked_role is not Role.ADMIN:
        _keep_an_admin(db, user, admin)
    before = (user.name, user.phone, user.lang, user.role, scope_id(user), is_supervisor(db, user))
    user.name = text
    user.phone = (phone or "").strip()[:40]
    user.lang = language
    set_scope(user, checked_role, org)
    db.flush()
    _set_supervisor(db, user, supervisor)
    after = (user.name, user.phone, user.lang, user.role, org, is_supervisor(db, user))
    names = ("name", "phone", "lang", "role", "organisation", "supervisor")
    changed = [f"{n}={a}" for n, b, a in zip(names, before, after, strict=True) if b != a]
    record(
        db,
        "admin.user.update",
        None,
        user=admin,
        target=f"user:{user.id}",
        detail=", ".join(str(c) for c in changed),
    )
    return user


def _keep_an_admin(db: Session, user: User, admin: User) -> None:
    if user.id == admin.id:
        raise Conflict(translate(admin.lang, "admin.error.self"))
    others = db.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict(translate(admin.lang, "admin.error.last_admin"))


def deactivate(db: Session, admin: User, user: User) -> int:
    """Deactivate the account and end its sessions; returns how many sessions ended.

    The caller closes the person's live page sockets after the commit.
    """
    if user.role is Role.ADMIN or user.id == admin.id:
        _keep_an_admin(db, user, admin)
    if not user.is_active:
        return 0
    user.is_active = False
    user.deactivated_at = utcnow()
    ended = end_all_sessions(db, user.id)
    record(
        db,
        "admin.user.deactivate",
        None,
        user=admin,
        target=f"user:{user.id}",
        detail=f"sessions ended={ended}",
    )
    db.flush()
    return ended


def reactivate(db: Session, admin: User, user: User) -> None:
    """Let the person log in again (with the password they had)."""
    if user.is_active:
        return
    user.is_active = True
    user.deactivated_at = None
    record(db, "admin.user.reactivate", None, user=admin, target=f"user:{user.id}")
    db.flush()


def get_staff(db: Session, user_id: int) -> User:
    """A staff or admin account (families are not managed here), or 404."""
    user = db.get(User, user_id)
    if user is None or user.role not in ADMIN_ROLES:
        raise NotFound("no such staff account")
    return user


@dataclass
class StaffQuery:
    """The staff list's filters."""

    role: Role | None = None
    organisation: str = ""  # "area:3", "clinic:1", "service_point:2"
    active: bool | None = True
    search: str = ""
    page: int = 1


def staff_page(db: Session, query: StaffQuery) -> tuple[list[User], int]:
    """One page of staff matching ``query`` and how many match in all."""
    where: list[ColumnElement[bool]] = [User.role.in_(ADMIN_ROLES)]
    if query.role is not None:
        where.append(User.role == query.role)
    if query.active is not None:
        where.append(User.is_active.is_(query.active))
    kind, _, org_id = query.organisation.partition(":")
    if kind in {s.value for s in Scope} and org_id.isdigit():
        column = {
            Scope.AREA: User.service_area_id,
            Scope.CLINIC: User.clinic_id,
            Scope.SERVICE_POINT: User.service_point_id,
        }[Scope(kind)]
        scoped = [r for r, s in ROLE_SCOPE.items() if s is Scope(kind)]
        where += [column == int(org_id), User.role.in_(scoped)]
    if query.search.strip():
        like = f"%{query.search.strip().lower()}%"
        where.append(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    total = db.scalar(select(func.count()).select_from(User).where(*where)) or 0
    rows = db.scalars(
        select(User)
        .where(*where)
        .order_by(User.name, User.id)
        .offset((max(query.page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return list(rows), int(total)


def count_by_role(db: Session) -> dict[Role, int]:
    """Active accounts per staff role."""
    rows = (
        db.execute(
            select(User.role, func.count())
            .where(User.is_active.is_(True), User.role.in_(ADMIN_ROLES))
            .group_by(User.role)
        )
        .tuples()
        .all()
    )
    counts = dict(rows)
    return {role: counts.get(role, 0) for role in ADMIN_ROLES}

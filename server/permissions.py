"""Who may see and change which elder: the one place that decides.

- family: elders linked to them by a care link
- doctor: elders in the care of their clinic
- operator: elders of their service area
- admin: every elder
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Select, exists, false, or_, select
from sqlalchemy.orm import Session

from protocol import Role
from server.errors import Forbidden, NotFound
from server.models import CareLink, Elder, User


def visible_elders(user: User) -> Select[tuple[Elder]]:
    """A query for the elders ``user`` may see."""
    query = select(Elder).order_by(Elder.id)
    if user.role is Role.ADMIN:
        return query
    if user.role is Role.FAMILY:
        link = exists().where(CareLink.elder_id == Elder.id, CareLink.user_id == user.id)
        return query.where(link)
    if user.role is Role.DOCTOR:
        if user.clinic_id is None:
            return query.where(false())
        return query.where(Elder.clinic_id == user.clinic_id)
    if user.role is Role.OPERATOR:
        if user.service_area_id is None:
            return query.where(false())
        return query.where(Elder.service_area_id == user.service_area_id)
    return query.where(false())


def can_see_elder(db: Session, user: User, elder_id: int) -> bool:
    """Whether ``user`` may see the elder with ``elder_id``."""
    found = db.scalar(visible_elders(user).where(Elder.id == elder_id).with_only_columns(Elder.id))
    return found is not None


def elder_for_viewing(db: Session, user: User, elder_id: int) -> Elder:
    """The elder, if ``user`` may see them; otherwise NotFound (hiding existence)."""
    elder = db.scalar(visible_elders(user).where(Elder.id == elder_id))
    if elder is None:
        raise NotFound(f"no elder {elder_id} that you can see")
    return elder


def elder_for_device_management(db: Session, user: User, elder_id: int) -> Elder:
    """The elder, if ``user`` may pair and revoke their boxes: linked family, or admin."""
    elder = elder_for_viewing(db, user, elder_id)
    if user.role not in (Role.FAMILY, Role.ADMIN):
        raise Forbidden("only the elder's family or an administrator can manage TV boxes")
    return elder


def users_who_see_elder(db: Session, elder: Elder) -> set[int]:
    """Ids of every active user who may see ``elder`` (for live pushes)."""
    return users_who_see_elders(db, {elder.id}).get(elder.id, set())


_IN_CHUNK = 500  # SQLite caps bound parameters per statement


def users_who_see_elders(db: Session, elder_ids: Iterable[int]) -> dict[int, set[int]]:
    """For many elders at once: elder id -> ids of the users who may see them.

    A handful of queries whatever the number of elders (thousands of boxes reconnecting
    after a restart must not cost four queries each).
    """
    wanted = sorted(set(elder_ids))
    if not wanted:
        return {}
    places: dict[int, tuple[int | None, int | None]] = {}
    family: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        for elder_id, clinic_id, area_id in db.execute(
            select(Elder.id, Elder.clinic_id, Elder.service_area_id).where(Elder.id.in_(chunk))
        ):
            places[elder_id] = (clinic_id, area_id)
        for elder_id, user_id in db.execute(
            select(CareLink.elder_id, CareLink.user_id).where(CareLink.elder_id.in_(chunk))
        ):
            family[elder_id].add(user_id)
    clinics = {c for c, _ in places.values() if c is not None}
    areas = {a for _, a in places.values() if a is not None}
    active = select(User.id, User.role, User.clinic_id, User.service_area_id).where(
        User.is_active.is_(True)
    )
    admins: set[int] = set()
    doctors: dict[int, set[int]] = defaultdict(set)
    operators: dict[int, set[int]] = defaultdict(set)
    staff = active.where(
        or_(
            User.role == Role.ADMIN,
            (User.role == Role.DOCTOR) & User.clinic_id.in_(clinics or {-1}),
            (User.role == Role.OPERATOR) & User.service_area_id.in_(areas or {-1}),
        )
    )
    for user_id, role, clinic_id, area_id in db.execute(staff):
        if role is Role.ADMIN:
            admins.add(user_id)
        elif role is Role.DOCTOR:
            doctors[clinic_id].add(user_id)
        else:
            operators[area_id].add(user_id)
    out = {}
    for elder_id, (clinic_id, area_id) in places.items():
        ids = family[elder_id] | admins
        if clinic_id is not None:
            ids |= doctors[clinic_id]
        if area_id is not None:
            ids |= operators[area_id]
        out[elder_id] = ids
    return out


SOS_ACTORS = (Role.FAMILY, Role.OPERATOR, Role.ADMIN)


def elder_for_sos_action(db: Session, user: User, elder_id: int) -> Elder:
    """The elder, if ``user`` may acknowledge, call about and resolve their SOS alerts.

    Whoever may see the elder may see their alerts; acting on one is for the linked family,
    the operators of the elder's area and administrators (a doctor only reads).
    """
    elder = elder_for_viewing(db, user, elder_id)
    if user.role not in SOS_ACTORS:
        raise Forbidden("only the family or the care centre can act on an SOS")
    return elder


def sos_audience(db: Session, elder: Elder) -> set[int]:
    """Active users who must hear of the elder's SOS at once: family, area operators, admins."""
    ids = set(db.scalars(select(CareLink.user_id).where(CareLink.elder_id == elder.id)).all())
    others = select(User.id).where(User.is_active.is_(True))
    ids.update(db.scalars(others.where(User.role == Role.ADMIN)).all())
    if elder.service_area_id is not None:
        ops = others.where(
            User.role == Role.OPERATOR, User.service_area_id == elder.service_area_id
        )
        ids.update(db.scalars(ops).all())
    return ids


def elder_for_medication(db: Session, user: User, elder_id: int) -> Elder:
    """The elder, if ``user`` may create and change their medication plans.

    Linked family, doctors of the elder's clinic and admins may; operators only see them.
    """
    elder = elder_for_viewing(db, user, elder_id)
    if user.role not in (Role.FAMILY, Role.DOCTOR, Role.ADMIN):
        raise Forbidden("only the elder's family, doctor or an administrator can change medicines")
    return elder

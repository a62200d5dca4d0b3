"""Who may see and change which elder: the one place that decides.

- family: elders linked to them by a care link
- doctor: elders in the care of their clinic
- operator: elders of their service area
- admin: every elder
"""

from __future__ import annotations

from sqlalchemy import Select, exists, false, select
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
    family = db.scalars(select(CareLink.user_id).where(CareLink.elder_id == elder.id)).all()
    ids = set(family)
    others = select(User.id).where(User.is_active.is_(True))
    ids.update(db.scalars(others.where(User.role == Role.ADMIN)).all())
    if elder.clinic_id is not None:
        doctors = others.where(User.role == Role.DOCTOR, User.clinic_id == elder.clinic_id)
        ids.update(db.scalars(doctors).all())
    if elder.service_area_id is not None:
        ops = others.where(
            User.role == Role.OPERATOR, User.service_area_id == elder.service_area_id
        )
        ids.update(db.scalars(ops).all())
    return ids


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

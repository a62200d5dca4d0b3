"""Roles and the one organisation each staff role is scoped to.

A person who logs in has one role. Staff roles are scoped to exactly one organisation, kept
in one of the user's columns: this table says which. Family members are linked to elders
by care links instead, and an administrator sees everything.
"""

from __future__ import annotations

from enum import StrEnum

from protocol import Role
from server.models import ServicePointKind, User


class Scope(StrEnum):
    """The kind of organisation a role belongs to."""

    AREA = "area"  # service_area_id: a care centre's district
    CLINIC = "clinic"  # clinic_id
    SERVICE_POINT = "service_point"  # service_point_id: a meal point or service provider


ROLE_SCOPE: dict[Role, Scope] = {
    Role.OPERATOR: Scope.AREA,
    Role.DOCTOR: Scope.CLINIC,
    Role.CLINIC_STAFF: Scope.CLINIC,
    Role.MEAL_STAFF: Scope.SERVICE_POINT,
    Role.SERVICE_WORKER: Scope.SERVICE_POINT,
}
STAFF_ROLES = tuple(ROLE_SCOPE)

# Which kind of service point a service-point role may belong to.
POINT_KINDS: dict[Role, ServicePointKind] = {
    Role.MEAL_STAFF: ServicePointKind.MEAL_POINT,
    Role.SERVICE_WORKER: ServicePointKind.SERVICE_PROVIDER,
}

SCOPE_COLUMN = {
    Scope.AREA: "service_area_id",
    Scope.CLINIC: "clinic_id",
    Scope.SERVICE_POINT: "service_point_id",
}


def scope_id(user: User) -> int | None:
    """The id of the organisation ``user``'s role is scoped to (None for family, admin)."""
    scope = ROLE_SCOPE.get(user.role)
    return None if scope is None else getattr(user, SCOPE_COLUMN[scope])


def set_scope(user: User, role: Role, organisation_id: int | None) -> None:
    """Give ``user`` the ``role`` scoped to ``organisation_id``, clearing the other scopes."""
    user.role = role
    for column in SCOPE_COLUMN.values():
        setattr(user, column, None)
    scope = ROLE_SCOPE.get(role)
    if scope is not None:
        setattr(user, SCOPE_COLUMN[scope], organisation_id)

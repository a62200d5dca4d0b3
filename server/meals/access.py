"""Who may do what with meals.

- a meal point's settings, menus, production sheet and delivery list: its own meal staff and
  administrators; the operators of its area may read them and change its settings;
- an elder's diet and preferred point: linked family, the elder's doctor, administrators;
- ordering for an elder: linked family and the operators of the elder's area (the hotline);
  their orders and statement whoever may see the elder sees;
- subsidy categories of an area and the elder's categories: the area's operators and
  administrators;
- a meal point sees only its own orders, and of each only the elder's name, address, phone
  and diet (`server.meals.kitchen`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from protocol import Role
from server.errors import Forbidden, NotFound
from server.meals.ordering import Orderer
from server.models import (
    Elder,
    MealOrder,
    OrderedBy,
    ServiceArea,
    ServicePoint,
    ServicePointKind,
    User,
)
from server.permissions import elder_for_viewing

ORDERERS = {Role.FAMILY: OrderedBy.FAMILY, Role.OPERATOR: OrderedBy.OPERATOR}
DIET_SETTERS = (Role.FAMILY, Role.DOCTOR, Role.ADMIN)


def meal_point(db: Session, point_id: int) -> ServicePoint:
    """An active meal point; NotFound otherwise."""
    point = db.get(ServicePoint, point_id)
    if point is None or not point.is_active or point.kind is not ServicePointKind.MEAL_POINT:
        raise NotFound(f"no meal point {point_id}")
    return point


def is_point_staff(user: User, point: ServicePoint) -> bool:
    """Whether ``user`` is the point's own meal staff or an administrator."""
    return user.role is Role.ADMIN or (
        user.role is Role.MEAL_STAFF and user.service_point_id == point.id
    )


def is_area_operator(user: User, area_id: int | None) -> bool:
    """Whether ``user`` is an operator of the area ``area_id``."""
    return user.role is Role.OPERATOR and area_id is not None and user.service_area_id == area_id


def point_for_kitchen(
    db: Session, user: User, point_id: int, *, operators: bool = False
) -> ServicePoint:
    """The meal point, if ``user`` is its staff or an administrator (or, with ``operators``,
    an operator of its area)."""
    point = meal_point(db, point_id)
    if is_point_staff(user, point) or (operators and is_area_operator(user, point.service_area_id)):
        return point
    raise Forbidden("only the meal point's own staff can do this")


def area_for_operator(db: Session, user: User, area_id: int) -> ServiceArea:
    """The area, if ``user`` is one of its operators or an administrator."""
    area = db.get(ServiceArea, area_id)
    if area is None:
        raise NotFound(f"no service area {area_id}")
    if user.role is Role.ADMIN or is_area_operator(user, area.id):
        return area
    raise Forbidden("only the area's operators can do this")


def elder_for_diet(db: Session, user: User, elder_id: int) -> Elder:
    """The elder, if ``user`` may set their diet: family, their doctor, administrators."""
    elder = elder_for_viewing(db, user, elder_id)
    if user.role not in DIET_SETTERS:
        raise Forbidden("only the elder's family or doctor can set the diet")
    return elder


def elder_for_subsidies(db: Session, user: User, elder_id: int) -> Elder:
    """The elder, if ``user`` may set their subsidy categories: the area's operators, admins."""
    elder = elder_for_viewing(db, user, elder_id)
    if user.role is Role.ADMIN or is_area_operator(user, elder.service_area_id):
        return elder
    raise Forbidden("only the care centre sets subsidy categories")


def orderer_for(db: Session, user: User, elder_id: int) -> tuple[Elder, Orderer]:
    """The elder and the orderer, if ``user`` may order for them: family, area operators."""
    elder = elder_for_viewing(db, user, elder_id)
    kind = ORDERERS.get(user.role)
    if kind is None:
        raise Forbidden("only the elder's family or the care centre can order meals")
    if not elder.is_active:
        raise Forbidden("the elder's service has ended")
    return elder, Orderer(kind, f"user:{user.id}", user.lang, user_id=user.id)


def family_for(db: Session, user: User, elder_id: int) -> Elder:
    """The elder, if ``user`` may set their standing orders and preferred point: family,
    the area's operators, administrators."""
    elder = elder_for_viewing(db, user, elder_id)
    if user.role in (Role.FAMILY, Role.ADMIN) or is_area_operator(user, elder.service_area_id):
        return elder
    raise Forbidden("only the elder's family can set standing orders")


def order_for(db: Session, user: User, order_id: int) -> MealOrder:
    """An order ``user`` may see (the elder's viewers; its own point's staff); NotFound else."""
    order = db.get(MealOrder, order_id)
    if order is None:
        raise NotFound(f"no meal order {order_id} that you can see")
    if user.role is Role.MEAL_STAFF:
        if user.service_point_id == order.service_point_id:
            return order
        raise NotFound(f"no meal order {order_id} that you can see")
    try:
        elder_for_viewing(db, user, order.elder_id)
    except NotFound:
        raise NotFound(f"no meal order {order_id} that you can see") from None
    return order

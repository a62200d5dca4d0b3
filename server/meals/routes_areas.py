"""A service area's meals over the API: its subsidy categories, orders per meal point per day,
and the monthly subsidy claim per meal point and category as CSV (its operators, admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import audit
from server.api.deps import CurrentUser, SessionDep
from server.api.responses import answers
from server.errors import Conflict, InvalidInput, NotFound
from server.ids import RowId
from server.meals.access import area_for_operator
from server.meals.billing import orders_per_point, subsidy_claim_csv
from server.meals.routes_elders import category_public
from server.meals.schemas import (
    CategoryIn,
    CategoryPublic,
    CategoryUpdate,
    Day,
    Month,
    PointDayPublic,
)
from server.models import SubsidyCategory

router = APIRouter(prefix="/api/meals", tags=["meals"])


@router.get(
    "/areas/{area_id}/subsidy-categories",
    response_model=list[CategoryPublic],
    responses=answers(401, 403, 404, 422),
)
def list_categories(area_id: RowId, user: CurrentUser, db: SessionDep) -> list[CategoryPublic]:
    """The area's subsidy categories."""
    area = area_for_operator(db, user, area_id)
    rows = db.scalars(
        select(SubsidyCategory)
        .where(SubsidyCategory.service_area_id == area.id)
        .order_by(SubsidyCategory.code)
    )
    return [category_public(r, user.lang) for r in rows]


@router.post(
    "/areas/{area_id}/subsidy-categories",
    response_model=CategoryPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def create_category(
    area_id: RowId, body: CategoryIn, user: CurrentUser, db: SessionDep
) -> CategoryPublic:
    """A new subsidy category: ``amount_cents`` or ``percent`` per meal."""
    area = area_for_operator(db, user, area_id)
    if db.scalar(
        select(SubsidyCategory.id).where(
            SubsidyCategory.service_area_id == area.id, SubsidyCategory.code == body.code
        )
    ):
        raise Conflict(f"the area has a category {body.code!r} already")
    row = SubsidyCategory(service_area_id=area.id, is_active=True, **body.model_dump())
    db.add(row)
    try:
        db.flush()
    except IntegrityError as err:  # the same code added at the same moment
        raise Conflict(f"the area has a category {body.code!r} already") from err
    audit.record(
        db, "subsidy_category.created", None, user=user, target=f"subsidy_category:{row.id}"
    )
    return category_public(row, user.lang)


@router.patch(
    "/subsidy-categories/{category_id}",
    response_model=CategoryPublic,
    responses=answers(400, 401, 403, 404, 422),
)
def update_category(
    category_id: RowId, body: CategoryUpdate, user: CurrentUser, db: SessionDep
) -> CategoryPublic:
    """Change a category; orders already made keep the subsidy they had."""
    row = db.get(SubsidyCategory, category_id)
    if row is None:
        raise NotFound(f"no subsidy category {category_id}")
    area_for_operator(db, user, row.service_area_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("amount_cents") is not None:
        row.amount_cents, row.percent = changes["amount_cents"], None
    elif changes.get("percent") is not None:
        row.amount_cents, row.percent = None, changes["percent"]
    elif "amount_cents" in changes or "percent" in changes:
        err = InvalidInput("a category keeps an amount or a percentage")
        err.field = "amount_cents"
        raise err
    for name in ("name_zh", "name_en", "is_active"):
        if changes.get(name) is not None:
            setattr(row, name, changes[name])
    audit.record(
        db, "subsidy_category.changed", None, user=user, target=f"subsidy_category:{row.id}"
    )
    db.flush()
    return category_public(row, user.lang)


@router.get(
    "/areas/{area_id}/orders-per-point",
    response_model=list[PointDayPublic],
    responses=answers(401, 403, 404, 422),
)
def read_orders_per_point(
    area_id: RowId,
    day: Annotated[Day, Query(description="the day")],
    user: CurrentUser,
    db: SessionDep,
) -> list[PointDayPublic]:
    """Each meal point of the area with its orders of the day."""
    area = area_for_operator(db, user, area_id)
    return orders_per_point(db, area.id, day)


@router.get(
    "/areas/{area_id}/subsidy-claim.csv",
    response_class=Response,
    responses={**answers(401, 403, 404, 422), 200: {"content": {"text/csv": {}}}},
)
def subsidy_claim(
    area_id: RowId, month: Annotated[Month, Query()], user: CurrentUser, db: SessionDep
) -> Response:
    """The month's subsidy claim per meal point and category, with a total line."""
    area = area_for_operator(db, user, area_id)
    body = subsidy_claim_csv(db, area.id, month, user.lang)
    audit.record(db, "subsidy_claim.read", None, user=user, target=f"area:{area.id}")
    return Response(
        "\ufeff" + body,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="subsidy-claim-{area.id}-{month}.csv"'
        },
    )

"""The care centre's meal page (operators of an area): ``/meals/area``.

Orders per meal point of a day (with day navigation), the month's subsidy claim per meal
point and category as CSV, the area's subsidy categories (add one: an amount in yuan or a
percentage per meal), and an elder's subsidy categories (``/meals/area/elders/{id}``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from protocol import Role
from server import audit
from server.api.deps import FormDep, RuntimeDep, SessionDep
from server.errors import Forbidden
from server.ids import RowId, form_row_id
from server.meals.access import elder_for_subsidies
from server.meals.billing import orders_per_point
from server.meals.ordering import categories_of
from server.meals.pages import yuan
from server.meals.rules import point_zone
from server.meals.schemas import CategoryIn
from server.models import Elder, ElderSubsidy, ServiceArea, SubsidyCategory, User, utcnow
from server.web.i18n import translate
from server.web.pages import form_user_of, page_lang, page_user_of, render

router = APIRouter(include_in_schema=False)
AreaUser = Annotated[User, Depends(page_user_of(Role.OPERATOR))]
AreaForm = Annotated[User, Depends(form_user_of(Role.OPERATOR))]
_PRICE = re.compile(r"[0-9]{1,4}(\.[0-9]{1,2})?")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
ELDER_CHOICES = 500  # elders listed to choose from; the register finds the rest
CATEGORY_FIELDS = ("code", "name_zh", "name_en", "kind", "value")


def _area(db: Session, user: User) -> ServiceArea:
    area = db.get(ServiceArea, user.service_area_id) if user.service_area_id else None
    if area is None:
        raise Forbidden("you are not an operator of a service area")
    return area


def _categories(db: Session, area: ServiceArea) -> list[SubsidyCategory]:
    return list(
        db.scalars(
            select(SubsidyCategory)
            .where(SubsidyCategory.service_area_id == area.id)
            .order_by(SubsidyCategory.code)
        )
    )


def area_page(
    request: Request,
    db: Session,
    user: User,
    status: int = 200,
    error: str = "",
    typed: dict[str, str] | None = None,
) -> Response:
    """The area's meals: orders per point of a day, the claim, the subsidy categories."""
    area = _area(db, user)
    today = utcnow().astimezone(point_zone(area)).date()
    try:
        day = date.fromisoformat(str(request.query_params.get("day") or ""))
    except ValueError:
        day = today
    if abs((day - today).days) > 3660:
        day = today
    month = str(request.query_params.get("month") or today.strftime("%Y-%m"))
    if not re.fullmatch(r"20[0-9]{2}-(0[1-9]|1[0-2])", month):
        month = today.strftime("%Y-%m")
    points = orders_per_point(db, area.id, day)
    return render(
        request,
        "meals/area.html",
        user,
        status=status,
        area=area,
        day=day,
        today=today,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        month=month,
        points=points,
        totals={
            k: sum(getattr(p, k) for p in points)
            for k in ("lunch", "dinner", "delivered", "not_home", "subsidy_cents")
        },
        categories=_categories(db, area),
        elders=list(
            db.scalars(
                select(Elder)
                .where(Elder.service_area_id == area.id, Elder.is_active.is_(True))
                .order_by(Elder.name, Elder.id)
                .limit(ELDER_CHOICES)
            )
        ),
        yuan=yuan,
        error=error,
        typed=typed or {"kind": "amount"},
        lang_zh=page_lang(request, user).value == "zh",
    )


@router.get("/meals/area")
def area_home(request: Request, user: AreaUser, db: SessionDep) -> Response:
    """Orders per meal point of a day, the month's claim and the subsidy categories."""
    return area_page(request, db, user)


@router.post("/meals/area/categories")
def category_form(request: Request, user: AreaForm, db: SessionDep, form: FormDep) -> Response:
    """Add a subsidy category: a code, names, and an amount in yuan or a percentage."""
    area = _area(db, user)
    lang = page_lang(request, user)
    typed = {k: str(form.get(k) or "").strip()[:80] for k in CATEGORY_FIELDS}
    code, value = typed["code"], typed["value"]
    amount = percent = None
    if not _CODE.fullmatch(code):
        return area_page(request, db, user, 422, translate(lang, "meals.area.bad_code"), typed)
    if typed["kind"] == "percent":
        if not value.isdigit() or not 0 <= int(value) <= 100:
            msg = translate(lang, "meals.area.bad_percent")
            return area_page(request, db, user, 422, msg, typed)
        percent = int(value)
    else:
        if not _PRICE.fullmatch(value):
            msg = translate(lang, "meals.area.bad_amount")
            return area_page(request, db, user, 422, msg, typed)
        whole, _, part = value.partition(".")
        amount = int(whole) * 100 + int((part + "00")[:2])
    try:
        body = CategoryIn(
            code=code,
            name_zh=typed["name_zh"],
            name_en=typed["name_en"],
            amount_cents=amount,
            percent=percent,
        )
    except ValidationError:
        msg = translate(lang, "meals.area.bad_names")
        return area_page(request, db, user, 422, msg, typed)
    if db.scalar(
        select(SubsidyCategory.id).where(
            SubsidyCategory.service_area_id == area.id, SubsidyCategory.code == body.code
        )
    ):
        msg = translate(lang, "meals.area.code_taken", code=code)
        return area_page(request, db, user, 409, msg, typed)
    row = SubsidyCategory(service_area_id=area.id, is_active=True, **body.model_dump())
    db.add(row)
    db.flush()
    audit.record(
        db, "subsidy_category.created", None, user=user, target=f"subsidy_category:{row.id}"
    )
    db.commit()
    return RedirectResponse("/meals/area?done=category#categories", status_code=303)


@router.get("/meals/area/elders/{elder_id}")
def elder_categories_page(
    request: Request, elder_id: RowId, user: AreaUser, db: SessionDep
) -> Response:
    """An elder's subsidy categories, as checkboxes of the area's active categories."""
    elder = elder_for_subsidies(db, user, elder_id)
    area = _area(db, user)
    chosen = {c.id for c in categories_of(db, elder)}
    return render(
        request,
        "meals/elder_subsidies.html",
        user,
        elder=elder,
        categories=[c for c in _categories(db, area) if c.is_active],
        chosen=chosen,
        yuan=yuan,
        lang_zh=page_lang(request, user).value == "zh",
    )


@router.post("/meals/area/elders/{elder_id}")
def elder_categories_form(
    elder_id: RowId, user: AreaForm, db: SessionDep, rt: RuntimeDep, form: FormDep
) -> Response:
    """Set the elder's subsidy categories (orders already made keep their subsidy)."""
    elder = elder_for_subsidies(db, user, elder_id)
    area = _area(db, user)
    allowed = {c.id for c in _categories(db, area) if c.is_active}
    wanted = {i for i in (form_row_id(v) for v in form.getlist("category")) if i in allowed}
    db.execute(delete(ElderSubsidy).where(ElderSubsidy.elder_id == elder.id))
    db.add_all(ElderSubsidy(elder_id=elder.id, category_id=c) for c in sorted(wanted))
    audit.record(
        db, "meal_subsidies.set", elder.id, user=user, detail=",".join(map(str, sorted(wanted)))
    )
    db.commit()
    return RedirectResponse(f"/meals/area/elders/{elder.id}?done=1", status_code=303)


def operator_section(db: Session, rt: Any, user: User, elders: list[Any]) -> dict[str, Any] | None:
    """On the operator's home: the way to the area's meals page."""
    if user.role is not Role.OPERATOR or user.service_area_id is None:
        return None
    return {}


@router.get("/meals/area/elder")
def pick_elder(request: Request, user: AreaUser, db: SessionDep) -> Response:
    """The elder chosen in the list: their subsidy categories page."""
    elder_id = form_row_id(request.query_params.get("elder"))
    if elder_id is None:
        return RedirectResponse("/meals/area#elder-subsidies", status_code=303)
    elder = elder_for_subsidies(db, user, elder_id)
    return RedirectResponse(f"/meals/area/elders/{elder.id}", status_code=303)

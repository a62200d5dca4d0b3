"""The SOS board on the operator and family pages: open alerts, map, contacts, timeline, actions.

The sections are declared in `server.sos.feature`; the actions are plain forms (CSRF-checked)
posting to the routes below, which redirect back to the page they came from.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from protocol import Role
from server.api.deps import RuntimeDep, SessionDep
from server.calls.sos_link import start_sos_call
from server.errors import AppError
from server.ids import RowId
from server.models import Elder, SosOutcome, SosStepKind, User, utcnow
from server.runtime import Runtime
from server.sos.alerts import (
    acknowledge,
    add_step,
    alert_for_action,
    alert_views,
    monthly_stats,
    resolve,
    visible_alerts,
)
from server.sos.check_in import TIME_PATTERN, push_rule, rule_of, set_rule
from server.sos.delivery import after_change
from server.web.pages import form_user_of
from server.web.views import MAP_H, MAP_W, area_map, service_points
from server.web.when import staff_zone

router = APIRouter(include_in_schema=False)
# Who acts on alerts from a page: the family, operators and admins (not doctors).
ActorForm = Annotated[User, Depends(form_user_of(Role.FAMILY, Role.OPERATOR, Role.ADMIN))]


def _board(db: Session, user: User, page: str, elders: list[Elder]) -> dict[str, Any]:
    views = alert_views(db, visible_alerts(db, user, open_only=False, limit=30))
    # Unanswered first (newest first among them), then those someone is handling.
    open_views = sorted(
        (v for v in views if v.alert.status.value != "resolved"),
        key=lambda v: v.alert.status.value != "open",
    )
    closed = [v for v in views if v.alert.status.value == "resolved"][:10]
    maps = {}
    for view in open_views:
        points = (
            service_points(db, view.elder.service_area_id) if view.elder.service_area_id else []
        )
        maps[view.alert.id] = area_map([view.elder], points)
    return {
        "page": page,
        "now": utcnow(),
        "open_alerts": open_views,
        "closed_alerts": closed,
        "maps": maps,
        "map_w": MAP_W,
        "map_h": MAP_H,
        "unanswered": sum(1 for v in open_views if v.alert.status.value == "open"),
        "months": monthly_stats(db, user),
        "outcomes": list(SosOutcome),
        "check_ins": [(e, rule_of(db, e.id)) for e in elders] if page == "family" else [],
        # Staff read times in their service area's zone; a family in each elder's own.
        "zone": staff_zone(db, user) if page == "operator" else None,
    }


def operator_board(db: Session, rt: Runtime, user: User, elders: list[Elder]) -> dict[str, Any]:
    """The care centre's live list of alerts (first on the page)."""
    return _board(db, user, "operator", elders)


def family_board(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """The family's own elders' alerts, with the same actions."""
    return _board(db, user, "family", elders) if elders else None


def family_urgent(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """Every alert of the family's elders not yet resolved, as a banner on top of the page."""
    views = alert_views(db, visible_alerts(db, user, open_only=True, limit=10)) if elders else []
    return {"open_alerts": views} if views else None


def _back(request: Request) -> RedirectResponse:
    referer = request.headers.get("referer", "")
    target = "/family" if "/family" in referer else "/operator"
    return RedirectResponse(target, status_code=303)


@router.post("/sos/alerts/{alert_id}/acknowledge")
def acknowledge_form(
    alert_id: RowId, request: Request, user: ActorForm, db: SessionDep, rt: RuntimeDep
) -> Response:
    """The Acknowledge button."""
    alert, taken = acknowledge(db, user, alert_id)
    db.commit()
    if taken:
        after_change(rt, alert.id)
    return _back(request)


@router.post("/sos/alerts/{alert_id}/resolve")
def resolve_form(
    alert_id: RowId,
    request: Request,
    user: ActorForm,
    db: SessionDep,
    rt: RuntimeDep,
    outcome: str = Form(""),
    note: str = Form(""),
) -> Response:
    """The Resolve form: an outcome and a note."""
    try:
        chosen = SosOutcome(outcome)
    except ValueError as err:
        raise AppError("choose an outcome") from err
    alert = resolve(db, user, alert_id, chosen, note.strip())
    db.commit()
    after_change(rt, alert.id)
    return _back(request)


@router.post("/sos/check-in/{elder_id}")
def check_in_form(
    elder_id: RowId,
    request: Request,
    user: ActorForm,
    db: SessionDep,
    rt: RuntimeDep,
    time_local: str = Form(""),
) -> Response:
    """The family sets (or clears, with an empty time) the daily check-in time."""
    chosen = time_local.strip() or None
    if chosen is not None and not re.fullmatch(TIME_PATTERN, chosen):
        raise AppError("the check-in time must look like 09:30")
    devices = set_rule(db, user, elder_id, chosen)
    db.commit()
    push_rule(rt, devices, chosen)
    return _back(request)


@router.post("/sos/alerts/{alert_id}/call")
def call_form(
    alert_id: RowId, request: Request, user: ActorForm, db: SessionDep, rt: RuntimeDep
) -> Response:
    """The Call button: open a video call to the elder's TV, which answers by itself."""
    alert = alert_for_action(db, user, alert_id)
    url = start_sos_call(alert)
    add_step(db, alert, SosStepKind.CALL_STARTED, user.name, user=user)
    db.commit()
    after_change(rt, alert.id)
    return RedirectResponse(url, status_code=303)

"""The homes every feature adds its sections to: ``/`` and the family and operator pages
(the doctor's home is the elders feature's `server.elders.doctor_pages`).

The core of each page (the elder cards, the operator's map) is shared; what a feature adds is
a section it declares (`server.web.sections`), rendered below the core content.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from protocol import Role
from server import audit
from server.admins import has_users
from server.api.deps import RuntimeDep, SessionDep
from server.models import Elder, User
from server.permissions import visible_elders
from server.runtime import Runtime
from server.web.pages import HOME, FamilyUser, OperatorUser, page_user, render
from server.web.views import MAP_H, MAP_W, area_map, elder_cards, service_points

router = APIRouter(include_in_schema=False)
# What the family page offers for the TV's speech (any value in the protocol's range is
# kept and shown as it is): espeak-ng words a minute, and loudness in percent.
SPEECH_RATE_CHOICES_WPM = (110, 140, 170)
SPEECH_VOLUME_CHOICES_PCT = (60, 80, 100)


def build_sections(
    page: str, db: Session, rt: Runtime, user: User, elders: list[Elder], place: str = "main"
) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) of every section of ``page`` at ``place`` that has something to show."""
    out = []
    for section in rt.wiring.sections:
        if section.page != page or section.place != place:
            continue
        context = section.build(db, rt, user, elders)
        if context is not None:
            out.append((section.template, context))
    return out


@router.get("/")
def index(request: Request, db: SessionDep) -> Response:
    """Home for whoever is logged in; the log-in page otherwise."""
    user = page_user(request, db)
    if user is None and not has_users(db):  # an empty database: make the first administrator
        return RedirectResponse("/setup", status_code=303)
    return RedirectResponse(HOME[user.role] if user else "/login", status_code=303)


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for this path whatever the page says."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


def family_page(
    request: Request, db: Session, rt: Runtime, user: User, status: int = 200, **extra: Any
) -> HTMLResponse:
    """The family page, with ``extra`` context (a form's error and what was typed)."""
    elders = list(db.scalars(visible_elders(user)))
    for elder in elders:
        audit.record(db, "elder.viewed_on_family_page", elder.id, user=user)
    cards = elder_cards(db, rt.presence, elders, user)
    extra.setdefault("sections", build_sections("family", db, rt, user, elders))
    panels = {
        s.template: (s.name, s.title)
        for s in rt.wiring.sections
        if s.page == "family" and s.place == "main"
    }
    notice = {"paired": "pair.done", "revoked": "revoke.done", "speech": "speech.done"}.get(
        request.query_params.get("done", "")
    )
    return render(
        request,
        "family.html",
        user,
        status=status,
        cards=cards,
        unpaired=[c for c in cards if not any(not d.revoked for d in c.devices)],
        urgent=build_sections("family", db, rt, user, elders, "urgent"),
        glance=build_sections("family", db, rt, user, elders, "glance"),
        panels=panels,
        notice=notice,
        speech_rates=SPEECH_RATE_CHOICES_WPM,
        speech_volumes=SPEECH_VOLUME_CHOICES_PCT,
        **extra,
    )


@router.get("/family")
def family_home(request: Request, user: FamilyUser, db: SessionDep, rt: RuntimeDep) -> Response:
    """The family's elders, their TV boxes, pairing and removal."""
    return family_page(request, db, rt, user)


OPERATOR_CARDS = 50  # elder cards on the operator home; the rest are in the register


@router.get("/operator")
def operator_home(request: Request, user: OperatorUser, db: SessionDep, rt: RuntimeDep) -> Response:
    """Elders of the operator's service area on a list and a map, with service points.

    An area may hold a city district's 100,000 elders: the home shows the first
    `OPERATOR_CARDS` and links to the register (`/elders`), which pages and searches.
    """
    elders = list(db.scalars(visible_elders(user).limit(OPERATOR_CARDS + 1)))
    more = len(elders) > OPERATOR_CARDS
    elders = elders[:OPERATOR_CARDS]
    for elder in elders:
        audit.record(db, "elder.viewed_on_operator_page", elder.id, user=user)
    area = None if user.role is Role.ADMIN else user.service_area_id
    points = service_points(db, area) if (area is not None or user.role is Role.ADMIN) else []
    return render(
        request,
        "operator.html",
        user,
        cards=elder_cards(db, rt.presence, elders, user),
        points=points,
        marks=area_map(elders, points),
        sections=build_sections("operator", db, rt, user, elders),
        more_elders=more,
        map_w=MAP_W,
        map_h=MAP_H,
    )

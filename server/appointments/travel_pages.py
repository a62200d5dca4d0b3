"""The family page's travel-time form: how long the elder needs to reach their clinic. The TV
says "leave by" that long before a visit at the clinic (empty: it reminds one hour before).

``POST /family/visit-travel`` (family): a wrong value shows the family page again with the
error beside the field (422), in the page's language.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from server import audit
from server.api.deps import FormDep, RuntimeDep, SessionDep
from server.appointments.access import booker_for
from server.appointments.pages import TEMPLATE
from server.appointments.tv import push_visits
from server.errors import InvalidInput
from server.ids import form_row_id
from server.models import Elder
from server.permissions import visible_elders
from server.web.homes import build_sections, family_page
from server.web.i18n import translate
from server.web.pages import FamilyForm, page_lang

router = APIRouter(include_in_schema=False)
MAX_MINUTES = 240  # as the API's TravelUpdate


def parse_minutes(raw: str) -> int | None:
    """The minutes typed (blank: not set); ValueError when not a whole number 0–240."""
    raw = raw.strip()
    if not raw:
        return None
    minutes = int(raw)  # ValueError for anything but digits (and a sign)
    if not 0 <= minutes <= MAX_MINUTES:
        raise ValueError(raw)
    return minutes


@router.post("/family/visit-travel")
def travel_form(
    request: Request, user: FamilyForm, form: FormDep, db: SessionDep, rt: RuntimeDep
) -> Response:
    """Set (or clear) the elder's travel time to the clinic from the family page."""
    lang = page_lang(request, user)
    elder_id = form_row_id(str(form.get("elder_id") or ""))
    if elder_id is None:
        raise InvalidInput(translate(lang, "error.elder"))
    elder, _booker = booker_for(db, user, elder_id)
    typed = str(form.get("minutes") or "")[:20]
    try:
        minutes = parse_minutes(typed)
    except ValueError:
        return _show_error(request, db, rt, user, elder, typed)
    elder.visit_travel_minutes = minutes
    audit.record(db, "elder.visit_travel_set", elder.id, user=user, detail=str(minutes))
    db.commit()
    push_visits(db, rt.hub, elder.id)  # the TV's "leave by" reminders follow at once
    return RedirectResponse(f"/family?done=travel#appointments-{elder.id}", status_code=303)


def _show_error(
    request: Request, db: SessionDep, rt: RuntimeDep, user: FamilyForm, elder: Elder, typed: str
) -> Response:
    elders = list(db.scalars(visible_elders(user)))
    sections = build_sections("family", db, rt, user, elders)
    for template, context in sections:
        if template == TEMPLATE:
            context.update(
                travel_error=translate(page_lang(request, user), "appointments.travel.error"),
                travel_elder_id=elder.id,
                travel_value=typed,
                open_panel=True,
            )
    return family_page(request, db, rt, user, 422, sections=sections)

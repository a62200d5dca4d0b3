"""The family page's speech form: how fast and how loud the elder's TV speaks."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from server.api.deps import RuntimeDep, SessionDep
from server.elders.records import update_elder
from server.elders.schemas import ElderUpdate
from server.ids import RowId
from server.web.homes import family_page
from server.web.i18n import translate
from server.web.pages import FamilyForm, page_lang

router = APIRouter(include_in_schema=False)


@router.post("/family/elders/{elder_id}/speech")
def family_speech(
    elder_id: RowId,
    request: Request,
    user: FamilyForm,
    db: SessionDep,
    rt: RuntimeDep,
    rate: str = Form(""),
    volume: str = Form(""),
) -> Response:
    """How fast and how loud the elder's TV speaks; the box hears of it at once."""
    try:
        body = ElderUpdate(speech_rate_wpm=int(rate), speech_volume_pct=int(volume))
    except ValueError:  # not a number, or out of range (pydantic's ValidationError)
        error = translate(page_lang(request, user), "speech.bad")
        return family_page(request, db, rt, user, 422, speech_error=(elder_id, error))
    update_elder(rt, db, user, elder_id, body.model_dump(exclude_none=True))
    return RedirectResponse(f"/family?done=speech#elder-{elder_id}", status_code=303)

"""The family page's pairing forms: pair the box showing a code, remove a box."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from server.api.deps import RuntimeDep, SessionDep, client_ip
from server.errors import AppError
from server.ids import RowId, form_row_id
from server.pairing.devices import revoke
from server.pairing.routes import claim_code
from server.web.homes import family_page
from server.web.i18n import translate
from server.web.pages import FamilyForm, page_lang

router = APIRouter(include_in_schema=False)


@router.post("/family/pair")
def family_pair(
    request: Request,
    user: FamilyForm,
    db: SessionDep,
    rt: RuntimeDep,
    code: str = Form(""),
    elder_id: str = Form(""),
) -> Response:
    """Pair the box showing ``code`` with the chosen elder."""
    lang = page_lang(request, user)
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return family_page(
            request, db, rt, user, 422, pair_error=translate(lang, "pair.bad_code"), code=code
        )
    chosen = form_row_id(elder_id)
    if chosen is None:
        return family_page(
            request, db, rt, user, 422, pair_error=translate(lang, "error.elder"), code=code
        )
    try:
        claim_code(rt, db, user, client_ip(request), code, chosen)
    except AppError as err:
        return family_page(request, db, rt, user, err.status, pair_error=err.message, code=code)
    return RedirectResponse("/family?done=paired", status_code=303)


@router.post("/family/devices/{device_id}/revoke")
def family_revoke(device_id: RowId, user: FamilyForm, db: SessionDep, rt: RuntimeDep) -> Response:
    """Remove a TV box; its connection is cut at once."""
    revoke(rt, db, user, device_id)
    return RedirectResponse("/family?done=revoked", status_code=303)

"""Server-rendered pages: log-in, and the family, doctor and operator homes (zh/en)."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server import audit
from server.accounts import end_session, user_for_token
from server.api.deps import SESSION_COOKIE, RuntimeDep, SessionDep, client_ip
from server.api.routes.auth import login_user
from server.api.routes.devices import claim_code, revoke
from server.core.security import csrf_token
from server.elder_records import update_elder
from server.errors import AppError, Forbidden, RateLimited, Unauthorized
from server.ids import RowId, form_row_id
from server.models import SessionKind, User
from server.permissions import visible_elders
from server.runtime import Runtime
from server.schemas import ElderUpdate
from server.web.i18n import pick_lang, translate
from server.web.sections import build_sections
from server.web.views import MAP_H, MAP_W, area_map, elder_cards, service_points

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
LANG_COOKIE = "anxin_lang"
# What the family page offers for the TV's speech (any value in the protocol's range is
# kept and shown as it is): espeak-ng words a minute, and loudness in percent.
SPEECH_RATE_CHOICES_WPM = (110, 140, 170)
SPEECH_VOLUME_CHOICES_PCT = (60, 80, 100)
HOME = {
    Role.FAMILY: "/family",
    Role.DOCTOR: "/doctor",
    Role.OPERATOR: "/operator",
    Role.ADMIN: "/operator",
}


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser asking for a page."""
    return "text/html" in request.headers.get("accept", "")


def _lang(request: Request, user: User | None) -> Lang:
    return pick_lang(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        user.lang if user else None,
        request.headers.get("accept-language", ""),
    )


def render(
    request: Request, name: str, user: User | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page in the viewer's language; an explicit ``?lang=`` is remembered in a cookie."""
    rt: Runtime = request.app.state.rt
    lang = _lang(request, user)
    session = request.cookies.get(SESSION_COOKIE, "")
    response = templates.TemplateResponse(
        request,
        name,
        {
            "t": lambda key, **values: translate(lang, key, **values),
            "lang": lang.value,
            "other_lang": "en" if lang is Lang.ZH else "zh",
            "user": user,
            "csrf": csrf_token(rt.settings.secret_key, session) if session else "",
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang.value, max_age=365 * 86400, samesite="lax")
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error shown as a page, with the same status a JSON client would get."""
    return render(request, "error.html", None, status=status, message=message)


def page_user(request: Request, db: Session) -> User | None:
    """The logged-in person of a page request."""
    return user_for_token(db, request.cookies.get(SESSION_COOKIE), SessionKind.COOKIE)


def _check_form(request: Request, csrf: str) -> None:
    rt: Runtime = request.app.state.rt
    session = request.cookies.get(SESSION_COOKIE, "")
    expected = csrf_token(rt.settings.secret_key, session) if session else ""
    if not expected or not hmac.compare_digest(expected, csrf):
        raise Forbidden(translate(_lang(request, None), "error.csrf"))


def _same_origin_post(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden("cross-site form submission refused")


def _require(request: Request, db: Session, *roles: Role) -> User | RedirectResponse:
    user = page_user(request, db)
    if user is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if user.role not in roles:
        raise Forbidden("this page is not for your role")
    return user


@router.get("/")
def index(request: Request, db: SessionDep) -> Response:
    """Home for whoever is logged in; the log-in page otherwise."""
    user = page_user(request, db)
    return RedirectResponse(HOME[user.role] if user else "/login", status_code=303)


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for this path whatever the page says."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The log-in page."""
    return render(request, "login.html", None, next=request.query_params.get("next", ""))


@router.post("/login")
async def login_submit(
    request: Request,
    rt: RuntimeDep,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
) -> Response:
    """Check the credentials; on success set the HTTP-only session cookie."""
    _same_origin_post(request)
    try:
        token, row, user = await login_user(rt, request, email, password, SessionKind.COOKIE)
    except RateLimited as err:  # a lock-out (429) or a flood of log-ins (503)
        page = render(
            request, "login.html", None, status=err.status, error=err.message, email=email
        )
        page.headers["Retry-After"] = f"{err.retry_after:.0f}"
        return page
    except Unauthorized:
        error = translate(_lang(request, None), "login.failed")
        return render(request, "login.html", None, status=401, error=error, email=email)
    target = next if next.startswith("/") and not next.startswith("//") else HOME[user.role]
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=rt.settings.public_base_url.startswith("https"),
        max_age=int(rt.settings.session_hours * 3600),
    )
    return response


@router.post("/logout")
def logout(request: Request, db: SessionDep) -> Response:
    """End the page session (not on another site's say-so)."""
    _same_origin_post(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(db, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _family_page(
    request: Request, db: Session, rt: Runtime, user: User, status: int = 200, **extra: Any
) -> HTMLResponse:
    elders = list(db.scalars(visible_elders(user)))
    for elder in elders:
        audit.record(db, "elder.viewed_on_family_page", elder.id, user=user)
    cards = elder_cards(db, rt.presence, elders, user)
    extra.setdefault("sections", build_sections("family", db, rt, user, elders))
    notice = {"paired": "pair.done", "revoked": "revoke.done", "speech": "speech.done"}.get(
        request.query_params.get("done", "")
    )
    return render(
        request,
        "family.html",
        user,
        status=status,
        cards=cards,
        notice=notice,
        speech_rates=SPEECH_RATE_CHOICES_WPM,
        speech_volumes=SPEECH_VOLUME_CHOICES_PCT,
        **extra,
    )


@router.get("/family")
def family_home(request: Request, db: SessionDep, rt: RuntimeDep) -> Response:
    """The family's elders, their TV boxes, pairing and removal."""
    user = _require(request, db, Role.FAMILY)
    if isinstance(user, RedirectResponse):
        return user
    return _family_page(request, db, rt, user)


@router.post("/family/pair")
def family_pair(
    request: Request,
    db: SessionDep,
    rt: RuntimeDep,
    code: str = Form(""),
    elder_id: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """Pair the box showing ``code`` with the chosen elder."""
    user = _require(request, db, Role.FAMILY)
    if isinstance(user, RedirectResponse):
        return user
    _check_form(request, csrf)
    lang = _lang(request, user)
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return _family_page(
            request, db, rt, user, 422, pair_error=translate(lang, "pair.bad_code"), code=code
        )
    chosen = form_row_id(elder_id)
    if chosen is None:
        return _family_page(
            request, db, rt, user, 422, pair_error=translate(lang, "error.elder"), code=code
        )
    try:
        claim_code(rt, db, user, client_ip(request), code, chosen)
    except AppError as err:
        return _family_page(request, db, rt, user, err.status, pair_error=err.message, code=code)
    return RedirectResponse("/family?done=paired", status_code=303)


@router.post("/family/elders/{elder_id}/speech")
def family_speech(
    elder_id: RowId,
    request: Request,
    db: SessionDep,
    rt: RuntimeDep,
    rate: str = Form(""),
    volume: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """How fast and how loud the elder's TV speaks; the box hears of it at once."""
    user = _require(request, db, Role.FAMILY)
    if isinstance(user, RedirectResponse):
        return user
    _check_form(request, csrf)
    try:
        body = ElderUpdate(speech_rate_wpm=int(rate), speech_volume_pct=int(volume))
    except ValueError:  # not a number, or out of range (pydantic's ValidationError)
        error = translate(_lang(request, user), "speech.bad")
        return _family_page(request, db, rt, user, 422, speech_error=(elder_id, error))
    update_elder(rt, db, user, elder_id, body.model_dump(exclude_none=True))
    return RedirectResponse(f"/family?done=speech#elder-{elder_id}", status_code=303)


@router.post("/family/devices/{device_id}/revoke")
def family_revoke(
    device_id: RowId, request: Request, db: SessionDep, rt: RuntimeDep, csrf: str = Form("")
) -> Response:
    """Remove a TV box; its connection is cut at once."""
    user = _require(request, db, Role.FAMILY)
    if isinstance(user, RedirectResponse):
        return user
    _check_form(request, csrf)
    revoke(rt, db, user, device_id)
    return RedirectResponse("/family?done=revoked", status_code=303)


@router.get("/doctor")
def doctor_home(request: Request, db: SessionDep, rt: RuntimeDep) -> Response:
    """Elders in the care of the doctor's clinic, with their care notes."""
    user = _require(request, db, Role.DOCTOR)
    if isinstance(user, RedirectResponse):
        return user
    elders = list(db.scalars(visible_elders(user)))
    for elder in elders:
        audit.record(db, "elder.viewed_on_doctor_page", elder.id, user=user)
    return render(
        request,
        "doctor.html",
        user,
        cards=elder_cards(db, rt.presence, elders, user),
        sections=build_sections("doctor", db, rt, user, elders),
    )


@router.get("/operator")
def operator_home(request: Request, db: SessionDep, rt: RuntimeDep) -> Response:
    """Elders of the operator's service area on a list and a map, with service points."""
    user = _require(request, db, Role.OPERATOR, Role.ADMIN)
    if isinstance(user, RedirectResponse):
        return user
    elders = list(db.scalars(visible_elders(user)))
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
        map_w=MAP_W,
        map_h=MAP_H,
    )

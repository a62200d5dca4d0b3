"""``/account``: who you are, your password, and the browsers and apps logged in as you."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.accounts import session_for_token
from server.api.deps import SESSION_COOKIE, SessionDep
from server.auth.passwords import PasswordRefused, change_password
from server.auth.sessions import end_other_sessions, end_own_session, live_sessions
from server.errors import NotFound
from server.ids import RowId
from server.models import User
from server.web.i18n import translate
from server.web.pages import AnyForm, AnyUser, page_lang, render
from server.web.when import staff_zone

router = APIRouter(include_in_schema=False)
NOTICES = {
    "password": "account.password_changed",
    "ended": "account.session_ended",
    "others": "account.others_ended",
}


def current_session_id(request: Request, db: Session) -> int | None:
    """The id of the page session making this request."""
    row = session_for_token(db, request.cookies.get(SESSION_COOKIE))
    return row.id if row is not None else None


def account_page(
    request: Request, db: Session, user: User, status: int = 200, **extra: Any
) -> HTMLResponse:
    """The account page, with a form's error if any."""
    current = current_session_id(request, db)
    notice = NOTICES.get(request.query_params.get("done", ""))
    count = request.query_params.get("n", "")
    return render(
        request,
        "auth/account.html",
        user,
        status=status,
        sessions=live_sessions(db, user, current),
        notice=notice,
        count=int(count) if count.isdigit() else 0,
        zone=staff_zone(db, user, request),
        **extra,
    )


@router.get("/account")
def account(request: Request, db: SessionDep, user: AnyUser) -> HTMLResponse:
    """Your account: name, e-mail, role, language, password and sessions."""
    return account_page(request, db, user)


@router.post("/account/password")
def account_password(
    request: Request,
    db: SessionDep,
    user: AnyForm,
    current: str = Form(""),
    new: str = Form(""),
    repeat: str = Form(""),
) -> Response:
    """Change the password; every other session ends, this one stays."""
    try:
        ended = change_password(db, user, current_session_id(request, db), current, new, repeat)
    except PasswordRefused as err:
        message = translate(page_lang(request, user), err.key, **err.values)
        return account_page(request, db, user, status=400, password_error=message)
    return RedirectResponse(f"/account?done=password&n={ended}", status_code=303)


@router.post("/account/sessions/end-others")
def account_end_others(request: Request, db: SessionDep, user: AnyForm) -> Response:
    """Log out every other browser and app."""
    ended = end_other_sessions(db, user, current_session_id(request, db))
    return RedirectResponse(f"/account?done=others&n={ended}", status_code=303)


@router.post("/account/sessions/{session_id}/end")
def account_end_session(
    request: Request, db: SessionDep, user: AnyForm, session_id: RowId
) -> Response:
    """Log out one browser or app (one of your own)."""
    if session_id == current_session_id(request, db):
        raise NotFound(translate(page_lang(request, user), "account.end_this_refused"))
    end_own_session(db, user, session_id)
    return RedirectResponse("/account?done=ended", status_code=303)

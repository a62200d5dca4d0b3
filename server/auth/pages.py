"""The log-in page and log-out (the session cookie of the pages)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from server.accounts import end_session
from server.admins import has_users
from server.api.deps import SESSION_COOKIE, RuntimeDep, SessionDep
from server.auth.login import login_user
from server.errors import RateLimited, Unauthorized
from server.models import SessionKind
from server.web.i18n import translate
from server.web.pages import HOME, page_lang, render, same_origin_post
from server.web.sessions import set_session_cookie

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request, db: SessionDep) -> Response:
    """The log-in page (on an empty database: the set-up page)."""
    if not has_users(db):
        return RedirectResponse("/setup", status_code=303)
    notice = request.query_params.get("done")
    return render(
        request,
        "login.html",
        None,
        next=request.query_params.get("next", ""),
        notice="reset.done" if notice == "password" else None,
    )


@router.post("/login")
async def login_submit(
    request: Request,
    rt: RuntimeDep,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
) -> Response:
    """Check the credentials; on success set the HTTP-only session cookie."""
    same_origin_post(request)
    try:
        token, row, user = await login_user(rt, request, email, password, SessionKind.COOKIE)
    except RateLimited as err:  # a lock-out (429) or a flood of log-ins (503)
        page = render(
            request, "login.html", None, status=err.status, error=err.message, email=email
        )
        page.headers["Retry-After"] = f"{err.retry_after:.0f}"
        return page
    except Unauthorized:
        error = translate(page_lang(request, None), "login.failed")
        return render(request, "login.html", None, status=401, error=error, email=email)
    target = next if next.startswith("/") and not next.startswith("//") else HOME[user.role]
    return set_session_cookie(RedirectResponse(target, status_code=303), rt, token)


@router.post("/logout")
def logout(request: Request, db: SessionDep) -> Response:
    """End the page session (not on another site's say-so)."""
    same_origin_post(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(db, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response

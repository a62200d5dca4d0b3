"""The page shell every feature's pages use: templates, language, rendering, error page, and
the `Annotated` dependencies that give a page route its logged-in user (`FamilyUser`…) and,
for a form post, also check its CSRF token (`FamilyForm`…)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server.accounts import user_for_token
from server.api.deps import SESSION_COOKIE, SessionDep
from server.core.security import csrf_token
from server.errors import Forbidden
from server.models import SessionKind, User
from server.runtime import Runtime
from server.web.i18n import pick_lang, translate
from server.web.when import page_globals

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
LANG_COOKIE = "anxin_lang"
HOME = {
    Role.FAMILY: "/family",
    Role.DOCTOR: "/doctor",
    Role.OPERATOR: "/operator",
    Role.ADMIN: "/admin",
    # Staff of features still to come: their account page until their pages exist.
    Role.CLINIC_STAFF: "/clinic",
    Role.MEAL_STAFF: "/meals/kitchen",
    Role.SERVICE_WORKER: "/account",
}


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser asking for a page."""
    return "text/html" in request.headers.get("accept", "")


def page_lang(request: Request, user: User | None) -> Lang:
    """The language a page is shown in."""
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
    lang = page_lang(request, user)
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
            **page_globals(request, lang),
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang.value, max_age=365 * 86400, samesite="lax")
    return response


def error_page(
    request: Request, status: int, message: str, user: User | None = None
) -> HTMLResponse:
    """An error shown as a page, with the same status a JSON client would get; with ``user``,
    the page says who is logged in and leads to their own home."""
    home = HOME[user.role] if user else "/"
    return render(request, "error.html", user, status=status, message=message, home=home)


def page_user(request: Request, db: Session) -> User | None:
    """The logged-in person of a page request."""
    return user_for_token(db, request.cookies.get(SESSION_COOKIE), SessionKind.COOKIE)


def check_form(request: Request, csrf: str) -> None:
    """Refuse a form post whose CSRF token is not the one of the poster's session."""
    rt: Runtime = request.app.state.rt
    session = request.cookies.get(SESSION_COOKIE, "")
    expected = csrf_token(rt.settings.secret_key, session) if session else ""
    if not expected or not hmac.compare_digest(expected, csrf):
        raise Forbidden(translate(page_lang(request, None), "error.csrf"))


def same_origin_post(request: Request) -> None:
    """Refuse a form posted from another site (log-in and log-out carry no CSRF token)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden("cross-site form submission refused")


class WrongRole(Forbidden):
    """A logged-in user on a page of another role (403): the page leads to their own home."""

    def __init__(self, message: str, user: User) -> None:
        super().__init__(message)
        self.user = user


class LoginNeeded(Exception):
    """No one is logged in on a page that needs someone: the app redirects to the log-in."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def page_user_of(*roles: Role) -> Callable[..., User]:
    """A dependency: the logged-in user if their role is one of ``roles``.

    Not logged in: `LoginNeeded` (a 303 to ``/login?next=…``); another role: `WrongRole` (403,
    said in the viewer's language).
    """

    def dependency(request: Request, db: SessionDep) -> User:
        user = page_user(request, db)
        if user is None:
            raise LoginNeeded(request.url.path)
        if user.role not in roles:
            # Kept out of the session: its rollback would expire what the error page shows.
            db.expunge(user)
            raise WrongRole(translate(page_lang(request, user), "error.role"), user)
        return user

    return dependency


def form_user_of(*roles: Role) -> Callable[..., User]:
    """A dependency: as `page_user_of`, then the form's ``csrf`` field is checked."""
    page = page_user_of(*roles)

    # ``Depends(page)`` as a default, not in ``Annotated``: the annotation would be a string
    # naming a local variable, which FastAPI cannot resolve.
    def dependency(
        request: Request,
        user: User = Depends(page),  # noqa: B008
        csrf: str = Form(""),
    ) -> User:
        check_form(request, csrf)
        return user

    return dependency


FamilyUser = Annotated[User, Depends(page_user_of(Role.FAMILY))]
FamilyForm = Annotated[User, Depends(form_user_of(Role.FAMILY))]
DoctorUser = Annotated[User, Depends(page_user_of(Role.DOCTOR))]
OperatorUser = Annotated[User, Depends(page_user_of(Role.OPERATOR, Role.ADMIN))]
OperatorForm = Annotated[User, Depends(form_user_of(Role.OPERATOR, Role.ADMIN))]
AdminUser = Annotated[User, Depends(page_user_of(Role.ADMIN))]
AdminForm = Annotated[User, Depends(form_user_of(Role.ADMIN))]
AnyUser = Annotated[User, Depends(page_user_of(*Role))]
AnyForm = Annotated[User, Depends(form_user_of(*Role))]

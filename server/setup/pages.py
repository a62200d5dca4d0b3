"""``GET/POST /setup``: the first administrator, made in the browser while no one has an account.

Once anyone has an account the page answers 404 ("already set up"): set-up cannot be used
to make a second administrator behind the first one's back.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from protocol import Lang
from server.admins import AdminRefused, check_new_admin, create_admin, has_users
from server.api.deps import RuntimeDep, SessionDep
from server.web.i18n import translate
from server.web.pages import error_page, page_lang, render, same_origin_post
from server.web.sessions import set_session_cookie, start_page_session

router = APIRouter(include_in_schema=False)


def _already_set_up(request: Request) -> HTMLResponse:
    return error_page(request, 404, translate(page_lang(request, None), "setup.already"))


@router.get("/setup")
def setup_form(request: Request, db: SessionDep) -> HTMLResponse:
    """The set-up form, while the database has no users."""
    if has_users(db):
        return _already_set_up(request)
    return render(request, "setup/setup.html", None, form={"lang": page_lang(request, None).value})


@router.post("/setup")
def setup_submit(
    request: Request,
    rt: RuntimeDep,
    name: str = Form(""),
    email: str = Form(""),
    password: str = Form(""),
    repeat: str = Form(""),
    lang: str = Form("zh"),
) -> Response:
    """Make the first administrator, log them in, and open the administration."""
    same_origin_post(request)  # no session yet, so no CSRF token: refuse other sites
    chosen = Lang.EN if lang == "en" else Lang.ZH
    form = {"name": name, "email": email, "lang": chosen.value}
    try:
        check_new_admin(email, name, password, repeat)
        with rt.db.session() as db:
            user = create_admin(
                db, email=email, name=name, password=password, lang=chosen, first=True
            )
            token = start_page_session(db, request, user)
    except AdminRefused as err:
        if err.key == "admins.already_set_up":
            return _already_set_up(request)
        message = translate(page_lang(request, None), err.key, **err.values)
        return render(request, "setup/setup.html", None, status=400, error=message, form=form)
    response = RedirectResponse("/admin", status_code=303)
    return set_session_cookie(response, rt, token)

"""Forgotten passwords: ``/forgot-password`` e-mails a link, ``/reset-password/{token}`` uses it.

The same page serves a new staff member's first password (the administrator's staff form
issues a RESET link): it then says "Set your password".
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.accounts import normalise_email
from server.api.deps import RuntimeDep, SessionDep, client_ip
from server.auth.passwords import PasswordRefused, request_reset, reset_with_link
from server.errors import RateLimited
from server.links import REFUSAL_STATUS, LinkRefused, peek_link
from server.models import LinkPurpose, User
from server.outgoing import deliver
from server.ratelimit import address_bucket
from server.runtime import Runtime
from server.web.i18n import translate
from server.web.pages import page_lang, render, same_origin_post

router = APIRouter(include_in_schema=False)


def send_reset(rt: Runtime, request: Request, email: str, later: BackgroundTasks) -> None:
    """Queue a reset e-mail, sent once the answer has left; the same for unknown addresses.

    Sending after the answer keeps the mail server's round trip out of its timing, which
    would otherwise tell a known address from an unknown one. Limited per address asked
    about and per caller: RateLimited when over.
    """
    if any(ord(c) < 32 for c in email):
        # No account has such an address (and PostgreSQL refuses NUL in text): answer as
        # for any unknown address, without passing it to the database.
        email = ""
    rt.reset_limiter.hit(f"email:{normalise_email(email)}", "password reset")
    rt.reset_limiter.hit(f"from:{address_bucket(client_ip(request))}", "password reset")
    with rt.db.session() as db:
        sent = request_reset(db, rt, email)
    if sent.message_id is not None:
        later.add_task(deliver, rt, [sent.message_id])


@router.get("/forgot-password")
def forgot_form(request: Request) -> HTMLResponse:
    """Ask for a reset link."""
    return render(request, "auth/forgot.html", None)


@router.post("/forgot-password")
def forgot_submit(
    request: Request, rt: RuntimeDep, later: BackgroundTasks, email: str = Form("")
) -> Response:
    """Always the same answer, whether or not the address has an account."""
    same_origin_post(request)
    lang = page_lang(request, None)
    if not email.strip():
        error = translate(lang, "admins.email_bad")
        return render(request, "auth/forgot.html", None, status=400, error=error)
    try:
        send_reset(rt, request, email, later)
    except RateLimited as err:
        page = render(
            request,
            "auth/forgot.html",
            None,
            status=429,
            error=translate(lang, "reset.limited"),
            email=email,
        )
        page.headers["Retry-After"] = f"{err.retry_after:.0f}"
        return page
    return render(request, "auth/forgot.html", None, sent=True, email=email)


def _refusal(request: Request, err: LinkRefused) -> HTMLResponse:
    message = translate(page_lang(request, None), f"link.{err.reason.value}")
    return render(
        request,
        "auth/reset.html",
        None,
        status=REFUSAL_STATUS[err.reason],
        refused=message,
        reason=err.reason.value,
    )


def _reset_form(
    request: Request, db: Session, token: str, status: int = 200, error: str = ""
) -> HTMLResponse:
    rt: Runtime = request.app.state.rt
    try:
        row = peek_link(db, rt.settings.secret_key, LinkPurpose.RESET, token)
    except LinkRefused as err:
        return _refusal(request, err)
    person = db.get(User, row.user_id)
    assert person is not None  # peek_link refuses links without an active account
    return render(
        request,
        "auth/reset.html",
        None,
        status=status,
        token=token,
        first=person.password_changed_at is None,
        email=person.email,
        error=error,
    )


@router.get("/reset-password/{token}")
def reset_form(request: Request, db: SessionDep, token: str) -> HTMLResponse:
    """The new-password form, or why the link does not work."""
    return _reset_form(request, db, token)


@router.post("/reset-password/{token}")
def reset_submit(
    request: Request,
    rt: RuntimeDep,
    db: SessionDep,
    token: str,
    new: str = Form(""),
    repeat: str = Form(""),
) -> Response:
    """Set the password, end every session, and send the person to log in."""
    same_origin_post(request)
    try:
        with rt.db.session() as work:
            reset_with_link(work, rt, token, new, repeat)
    except LinkRefused as err:
        return _refusal(request, err)
    except PasswordRefused as err:
        message = translate(page_lang(request, None), err.key, **err.values)
        return _reset_form(request, db, token, status=400, error=message)
    return RedirectResponse("/login?done=password", status_code=303)

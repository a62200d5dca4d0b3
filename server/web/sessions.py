"""Starting a page session outside the log-in form (first set-up, an accepted invitation)."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy.orm import Session

from server.accounts import start_session
from server.api.deps import SESSION_COOKIE, client_ip
from server.models import SessionKind, User
from server.runtime import Runtime


def start_page_session(db: Session, request: Request, user: User) -> str:
    """A cookie session for ``user``, noting the browser and address; returns its token."""
    rt: Runtime = request.app.state.rt
    token, _ = start_session(
        db,
        rt.settings,
        user,
        SessionKind.COOKIE,
        user_agent=request.headers.get("user-agent", ""),
        ip=client_ip(request),
    )
    return token


def set_session_cookie(response: Response, rt: Runtime, token: str) -> Response:
    """Give the browser its HTTP-only session cookie; returns ``response``."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=rt.settings.public_base_url.startswith("https"),
        max_age=int(rt.settings.session_hours * 3600),
    )
    return response

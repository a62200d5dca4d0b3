"""Dependencies of the API routes: runtime, database session, current user or device."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from server.accounts import device_for_token, user_for_token
from server.api.csrf import check_cookie_request
from server.errors import Unauthorized
from server.models import Device, SessionKind, User
from server.runtime import Runtime

SESSION_COOKIE = "anxin_session"


def get_runtime(request: Request) -> Runtime:
    """The process runtime."""
    return request.app.state.rt  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_db(rt: RuntimeDep) -> Iterator[Session]:
    """A database session for one request, committed when it succeeds."""
    with rt.db.session() as session:
        yield session


# scope="function": commit before the response leaves, so a client acting on it sees the write.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


async def read_form(request: Request) -> FormData:
    """The submitted form, read on the loop so the route itself can be a plain ``def``."""
    return await request.form()


# A page route that reads a whole form and then works on the database takes the form as this
# dependency and stays a plain ``def``: FastAPI then runs it on a worker thread, not the loop.
FormDep = Annotated[FormData, Depends(read_form)]


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def get_current_user(request: Request, db: SessionDep, rt: RuntimeDep) -> User:
    """The person calling: a bearer token, or the page's session cookie (CSRF-checked)."""
    token = bearer_token(request)
    if token:
        user = user_for_token(db, token, SessionKind.BEARER)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        user = user_for_token(db, cookie, SessionKind.COOKIE)
        if user is not None and cookie:
            settings = rt.settings
            check_cookie_request(request, cookie, settings.secret_key, settings.public_base_url)
    if user is None:
        raise Unauthorized(
            "log in first: send 'Authorization: Bearer <token>' from /api/auth/login"
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_device(request: Request, db: SessionDep) -> Device:
    """The TV box calling with its device token."""
    device = device_for_token(db, bearer_token(request))
    if device is None:
        raise Unauthorized("this endpoint needs a paired TV box's device token")
    return device


CurrentDevice = Annotated[Device, Depends(get_current_device)]


def client_ip(request: Request) -> str:
    """The caller's address, for rate limits."""
    return request.client.host if request.client else "unknown"

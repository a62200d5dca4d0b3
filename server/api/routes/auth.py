"""Log-in and log-out for the API (bearer tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from server.accounts import authenticate, end_session, normalise_email, start_session
from server.api.deps import CurrentUser, RuntimeDep, SessionDep, bearer_token, client_ip
from server.api.responses import answers
from server.errors import Unauthorized
from server.models import SessionKind
from server.schemas import LoginIn, TokenOut, UserPublic

router = APIRouter(prefix="/api/auth", tags=["auth"])


def login_user(
    rt: RuntimeDep, db: SessionDep, request: Request, email: str, password: str, kind: SessionKind
):  # type: ignore[no-untyped-def]
    """Check credentials under the guessing limit; returns (token, session row, user)."""
    key = f"{client_ip(request)}:{normalise_email(email)}"
    rt.login_limiter.check(key, "log-in")
    try:
        user = authenticate(db, email, password)
    except Unauthorized:
        rt.login_limiter.hit(key, "log-in")
        raise
    rt.login_limiter.reset(key)
    token, row = start_session(db, rt.settings, user, kind)
    return token, row, user


@router.post("/login", response_model=TokenOut, responses=answers(400, 401, 422, 429))
def login(body: LoginIn, request: Request, rt: RuntimeDep, db: SessionDep) -> TokenOut:
    """Exchange e-mail and password for a bearer token."""
    token, row, user = login_user(rt, db, request, body.email, body.password, SessionKind.BEARER)
    return TokenOut(
        access_token=token, expires_at=row.expires_at, user=UserPublic.model_validate(user)
    )


@router.post("/logout", status_code=204, responses=answers(401))
def logout(request: Request, user: CurrentUser, db: SessionDep) -> Response:
    """End the bearer session used for this call."""
    token = bearer_token(request)
    if token:
        end_session(db, token)
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic, responses=answers(401))
def me(user: CurrentUser) -> UserPublic:
    """Who is logged in."""
    return UserPublic.model_validate(user)

"""Log-in and log-out for the API (bearer tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from server.accounts import end_session
from server.api.deps import CurrentUser, RuntimeDep, SessionDep, bearer_token
from server.api.responses import answers
from server.auth.login import login_user
from server.auth.schemas import LoginCreate, TokenPublic, UserPublic
from server.models import SessionKind

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login", response_model=TokenPublic, responses=answers(400, 401, 422, 429, 503))
async def login(body: LoginCreate, request: Request, rt: RuntimeDep) -> TokenPublic:
    """Exchange e-mail and password for a bearer token."""
    token, row, user = await login_user(rt, request, body.email, body.password, SessionKind.BEARER)
    return TokenPublic(
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

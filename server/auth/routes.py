"""Log-in and log-out for the API (bearer tokens)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from server.accounts import end_session, session_for_token
from server.api.deps import SESSION_COOKIE, CurrentUser, RuntimeDep, SessionDep, bearer_token
from server.api.responses import answers
from server.auth.login import login_user
from server.auth.passwords import PasswordRefused, change_password
from server.auth.reset_pages import send_reset
from server.auth.schemas import (
    LoginCreate,
    PasswordChangedPublic,
    PasswordResetCreate,
    PasswordUpdate,
    SessionPublic,
    TokenPublic,
    UserPublic,
)
from server.auth.sessions import end_own_session, live_sessions
from server.errors import InvalidInput
from server.ids import RowId
from server.models import SessionKind
from server.web.i18n import translate

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


def _current_session_id(request: Request, db: Session) -> int | None:
    row = session_for_token(db, bearer_token(request) or request.cookies.get(SESSION_COOKIE))
    return row.id if row is not None else None


@router.get("/sessions", response_model=list[SessionPublic], responses=answers(401))
def sessions(request: Request, user: CurrentUser, db: SessionDep) -> list[SessionPublic]:
    """Your live sessions (browsers and apps logged in as you), this one first."""
    views = live_sessions(db, user, _current_session_id(request, db))
    return [SessionPublic(**{**v.__dict__, "kind": v.kind.value}) for v in views]


@router.delete("/sessions/{session_id}", status_code=204, responses=answers(401, 404, 422))
def end_session_by_id(user: CurrentUser, db: SessionDep, session_id: RowId) -> Response:
    """End one of your own sessions (another person's id: 404)."""
    end_own_session(db, user, session_id)
    return Response(status_code=204)


@router.post("/password", response_model=PasswordChangedPublic, responses=answers(400, 401, 422))
def password(
    body: PasswordUpdate, request: Request, user: CurrentUser, db: SessionDep
) -> PasswordChangedPublic:
    """Change your password; your other sessions end, this one stays."""
    try:
        ended = change_password(
            db,
            user,
            _current_session_id(request, db),
            body.current_password,
            body.new_password,
            body.new_password,
        )
    except PasswordRefused as err:
        raise InvalidInput(translate(user.lang, err.key, **err.values)) from err
    return PasswordChangedPublic(other_sessions_ended=ended)


@router.post("/password-reset", status_code=202, responses=answers(400, 422, 429))
def password_reset(
    body: PasswordResetCreate, request: Request, rt: RuntimeDep, later: BackgroundTasks
) -> Response:
    """E-mail a reset link if the address has an account; 202 whatever the address."""
    send_reset(rt, request, body.email, later)
    # The same answer whether or not the address has an account.
    return JSONResponse(
        {"detail": "if an account has this address, a link to set a new password was sent"},
        status_code=202,
    )

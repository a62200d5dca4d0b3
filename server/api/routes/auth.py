"""Log-in and log-out for the API (bearer tokens)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from server.accounts import authenticate, end_session, normalise_email, start_session
from server.api.deps import CurrentUser, RuntimeDep, SessionDep, bearer_token, client_ip
from server.api.responses import answers
from server.errors import RateLimited, ServerBusy
from server.models import SessionKind, User, UserSession
from server.ratelimit import address_bucket
from server.runtime import Runtime
from server.schemas import LoginIn, TokenOut, UserPublic

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _check_and_start_session(
    rt: Runtime, email: str, password: str, kind: SessionKind
) -> tuple[str, UserSession, User]:
    # On a password-check thread: lookup, argon2, session row, all in one transaction.
    with rt.db.session() as db:
        user = authenticate(db, email, password)
        token, row = start_session(db, rt.settings, user, kind)
        return token, row, user


async def login_user(
    rt: Runtime, request: Request, email: str, password: str, kind: SessionKind
) -> tuple[str, UserSession, User]:
    """Check credentials under the guessing limits; returns (token, session row, user).

    A refusal (429 locked out, 503 busy) is held back ``login_refusal_delay_seconds``
    before it leaves, holding only a coroutine: a flooding client that ignores
    ``Retry-After`` would otherwise come straight back, and thousands of instant refusals
    a second kept the event loop from `/healthz` and SOS pushes.
    """
    try:
        return await _login_user(rt, request, email, password, kind)
    except RateLimited:
        await asyncio.sleep(rt.settings.login_refusal_delay_seconds)
        raise


async def _login_user(
    rt: Runtime, request: Request, email: str, password: str, kind: SessionKind
) -> tuple[str, UserSession, User]:
    """Two limits: failures per address and account (a lock-out of one account for whoever
    guesses at it), and failures per address whatever the accounts (random e-mails). Each
    attempt is counted before its check, so a burst of concurrent guesses cannot all slip
    through; a success takes its count back. Then the check waits its turn in the bounded
    `PasswordCheckGate`: a flood gets 503 instead of memory and threads.
    """
    address = address_bucket(client_ip(request))
    account_key, address_key = f"{address}:{normalise_email(email)}", address
    rt.login_limiter.check(account_key, "log-in")
    rt.login_address_limiter.hit(address_key, "log-in")
    try:
        rt.login_limiter.hit(account_key, "log-in")
    except RateLimited:
        rt.login_address_limiter.forget_one(address_key)
        raise
    try:
        token, row, user = await rt.password_checks.run(
            _check_and_start_session, rt, email, password, kind
        )
    except ServerBusy:  # no check happened: the attempt does not count against anyone
        rt.login_limiter.forget_one(account_key)
        rt.login_address_limiter.forget_one(address_key)
        raise
    rt.login_limiter.reset(account_key)
    rt.login_address_limiter.forget_one(address_key)
    return token, row, user


@router.post("/login", response_model=TokenOut, responses=answers(400, 401, 422, 429, 503))
async def login(body: LoginIn, request: Request, rt: RuntimeDep) -> TokenOut:
    """Exchange e-mail and password for a bearer token."""
    token, row, user = await login_user(rt, request, body.email, body.password, SessionKind.BEARER)
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

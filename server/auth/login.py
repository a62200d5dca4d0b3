"""Checking a log-in under the guessing limits and the password-check gate (API and page)."""

from __future__ import annotations

import asyncio

from fastapi import Request

from server.accounts import authenticate, normalise_email, start_session
from server.api.deps import client_ip
from server.errors import RateLimited, ServerBusy
from server.models import SessionKind, User, UserSession
from server.ratelimit import address_bucket
from server.runtime import Runtime


def _check_and_start_session(
    rt: Runtime, email: str, password: str, kind: SessionKind, user_agent: str, ip: str
) -> tuple[str, UserSession, User]:
    # On a password-check thread: lookup, argon2, session row, all in one transaction.
    with rt.db.session() as db:
        user = authenticate(db, email, password)
        token, row = start_session(db, rt.settings, user, kind, user_agent=user_agent, ip=ip)
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
            _check_and_start_session,
            rt,
            email,
            password,
            kind,
            request.headers.get("user-agent", ""),
            client_ip(request),
        )
    except ServerBusy:  # no check happened: the attempt does not count against anyone
        rt.login_limiter.forget_one(account_key)
        rt.login_address_limiter.forget_one(address_key)
        raise
    rt.login_limiter.reset(account_key)
    rt.login_address_limiter.forget_one(address_key)
    return token, row, user

"""The FastAPI application: the list of features, sockets, pages and errors mapped to 4xx JSON.

A feature is a package under ``server/`` exporting one `server.features.Feature` from its
``feature.py``; `FEATURES` lists them, and `create_app` builds the routes, socket handler
tables, connect hooks, sweeps and page sections from that list (``rt.wiring``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from protocol import ErrorCode
from server import outgoing
from server.admin.feature import FEATURE as admin
from server.api.responses import ErrorOut, FieldErrorOut, InvalidOut, code_for_status
from server.appointments.feature import FEATURE as appointments
from server.auth.feature import FEATURE as auth
from server.body_limit import BodySizeLimit
from server.calls.feature import FEATURE as calls
from server.core.config import Settings
from server.elders.feature import FEATURE as elders
from server.errors import AppError, InvalidInput, RateLimited
from server.features import Feature, Wiring, every
from server.health.feature import FEATURE as health
from server.invitations.feature import FEATURE as invitations
from server.meals.feature import FEATURE as meals
from server.pairing.feature import FEATURE as pairing
from server.reminders.feature import FEATURE as reminders
from server.runtime import Runtime
from server.scheduler import start_scheduler, stop_scheduler
from server.security_headers import SecurityHeadersMiddleware, page_csp, security_headers
from server.setup.feature import FEATURE as setup
from server.sos.feature import FEATURE as sos
from server.web import homes, pages
from server.ws.box import box_socket
from server.ws.presence import LAST_SEEN_FLUSH_SECONDS
from server.ws.web import web_socket

log = logging.getLogger(__name__)
# Routes that take an upload larger than a form: a city's register of elders (100 000 rows).
UPLOAD_LIMITS = {"/elders/import": 50_000_000, "/api/elders/import": 50_000_000}
STATIC_DIR = Path(__file__).parent / "web" / "static"
# npm packages of the pages (server/web/vendor/package.json), installed by scripts/setup.sh.
VENDOR_DIR = Path(__file__).parent / "web" / "vendor" / "node_modules"


def flush_last_seen(rt: Runtime) -> None:
    """Write the last-seen times of boxes heard since the previous flush (a sweep)."""
    # Reports nothing (logged at DEBUG): with boxes online it writes on every tick.
    rt.presence.flush()


# What the shared layers add: the page homes features put their sections on, the batched
# last-seen writes of boxes, and the retries of queued e-mails and texts.
SHELL = Feature(
    name="shell",
    routers=(homes.router,),
    sweeps=(every(LAST_SEEN_FLUSH_SECONDS, flush_last_seen),),
)
OUTGOING = Feature(
    name="outgoing", sweeps=(every(outgoing.SWEEP_SECONDS, outgoing.outgoing_sweep),)
)
FEATURES: tuple[Feature, ...] = (
    health,
    setup,
    auth,
    pairing,
    elders,
    invitations,
    reminders,
    sos,
    calls,
    appointments,
    meals,
    admin,
    OUTGOING,
    SHELL,
)


def _validation_message(err: RequestValidationError) -> str:
    parts = []
    for item in err.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as JSON `ErrorOut` (422: `InvalidOut`); nothing leaves as a bare 500."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, err: AppError) -> Response:
        headers = (
            {"Retry-After": f"{err.retry_after:.0f}"} if isinstance(err, RateLimited) else None
        )
        if request.url.path.startswith(("/api", "/healthz", "/ws")) or not pages.wants_html(
            request
        ):
            if isinstance(err, InvalidInput):  # a 422 says which field, like pydantic's
                return _invalid_input(err)
            return _error(err.status, err.message, err.code, headers)
        user = err.user if isinstance(err, pages.WrongRole) else None
        return pages.error_page(request, err.status, err.message, user)

    @app.exception_handler(pages.LoginNeeded)
    async def _login_needed(request: Request, err: pages.LoginNeeded) -> Response:
        return RedirectResponse(f"/login?next={err.path}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        body = InvalidOut(
            detail=_validation_message(err), code=ErrorCode.INVALID, errors=_safe_errors(err)
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        # Raised by the framework itself: unknown path (404), wrong method (405), a body
        # that cannot be parsed (400). They carry a code like every other error.
        return _error(
            err.status_code, str(err.detail), code_for_status(err.status_code), err.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Starlette answers this one outside every middleware: add the security headers here.
        https = request.app.state.rt.settings.public_base_url.startswith("https")
        return _error(
            500,
            "internal error; it has been logged",
            ErrorCode.INTERNAL,
            headers=security_headers(request.url.path, "application/json", https),
        )


def _error(
    status: int, message: str, code: ErrorCode, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorOut(detail=message, code=code).model_dump(mode="json")
    return JSONResponse(body, status, headers=dict(headers) if headers else None)


def _invalid_input(err: InvalidInput) -> JSONResponse:
    fields = (
        [FieldErrorOut(loc=["body", err.field], msg=err.message, type="value_error")]
        if err.field
        else []
    )
    body = InvalidOut(detail=err.message, code=err.code, errors=fields)
    return JSONResponse(body.model_dump(mode="json"), status_code=err.status)


def _safe_errors(err: RequestValidationError) -> list[FieldErrorOut]:
    return [
        FieldErrorOut(
            loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            msg=str(e.get("msg", "")),
            type=str(e.get("type", "")),
        )
        for e in err.errors()[:20]
    ]


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    features: tuple[Feature, ...] = FEATURES,
) -> FastAPI:
    """A ready application of ``features`` over ``runtime`` (or one built from ``settings``).

    Two features handling one message type refuse to start (`ValueError`).
    """
    rt = runtime or Runtime.from_settings(settings or Settings())
    rt.wiring = Wiring.build(features)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt.hub.bind(asyncio.get_running_loop())
        scheduler = start_scheduler(rt) if rt.settings.scheduler_enabled else None
        yield
        if scheduler is not None:
            await stop_scheduler(scheduler)
        await rt.hub.drain()
        await asyncio.to_thread(rt.presence.flush)  # last seen of every box, once
        rt.threads.close()
        rt.db.dispose()

    app = FastAPI(title="Anxin", version="0.1.0", lifespan=lifespan)
    app.state.rt = rt
    install_error_handlers(app)

    # The sockets come first: thousands of boxes reconnect at once after a restart, and
    # every route listed before these would be tried against each of them.
    @app.websocket("/ws/box")
    async def ws_box(ws: WebSocket) -> None:
        await box_socket(ws, rt)

    @app.websocket("/ws/web")
    async def ws_web(ws: WebSocket) -> None:
        await web_socket(ws, rt)

    for router in rt.wiring.routers:
        app.include_router(router)
    app.mount(
        "/static/vendor/leaflet",
        StaticFiles(directory=VENDOR_DIR / "leaflet" / "dist", check_dir=False),
        name="leaflet",
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # --- hostile input: request bodies over the limit are refused before they are read ---
    app.add_middleware(BodySizeLimit, max_bytes=rt.settings.max_body_bytes, larger=UPLOAD_LIMITS)
    # Security headers (CSP, nosniff, framing...) on every HTTP response; see the module.
    # (The CSRF check of cookie-authenticated API writes is in server.api.deps.)
    app.add_middleware(
        SecurityHeadersMiddleware,
        https=rt.settings.public_base_url.startswith("https"),
        page_policy=page_csp(rt.settings.map_tile_url),
    )

    return app

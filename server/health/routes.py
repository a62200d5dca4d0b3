"""Liveness and database check."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from server.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    """The process is up and the database answers."""

    status: str
    database: str
    connections: int


class HealthDownPublic(BaseModel):
    """The database does not answer."""

    status: str
    database: str
    detail: str


@router.get(
    "/healthz",
    responses={
        200: {"model": HealthPublic},
        503: {"model": HealthDownPublic, "description": "The database does not answer"},
    },
)
async def healthz(rt: RuntimeDep) -> JSONResponse:
    """200 when the process is up and the database answers; 503 otherwise."""

    def ping() -> None:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except Exception as err:  # noqa: BLE001 - any database failure means unhealthy
        return JSONResponse(
            {"status": "unhealthy", "database": "down", "detail": str(err)[:200]}, status_code=503
        )
    return JSONResponse(
        {
            "status": "ok",
            "database": rt.db.engine.dialect.name,
            "connections": rt.hub.connection_count(),
        }
    )

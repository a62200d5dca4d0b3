"""Error answers as the OpenAPI document declares them: one body shape, and per-status entries.

Every error leaves as ``{"detail": message, "code": reason}`` (`ErrorOut`); a 422 adds the list
of fields at fault (`InvalidOut`). Routes declare what they can answer with `answers`, e.g.
``responses=answers(401, 404, 422)``, so clients (and the fuzz test) know each route's
statuses and bodies.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from protocol import ErrorCode


class ErrorOut(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="what went wrong, safe to show to the person")
    code: ErrorCode = Field(description="machine-readable reason")


class FieldErrorOut(BaseModel):
    """One field at fault in a refused request."""

    loc: list[str | int] = Field(description="where: path, query, body, then the field's path")
    msg: str
    type: str


class InvalidOut(ErrorOut):
    """The body of a 422: the message, ``code: invalid``, and the fields at fault."""

    errors: list[FieldErrorOut]


# Statuses an error can leave with, and which code each carries when nothing more precise applies
# (404 for an unknown path, 405 for a wrong method, 400 for a body that cannot be parsed).
CODE_OF_STATUS: dict[int, ErrorCode] = {
    400: ErrorCode.MALFORMED,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    422: ErrorCode.INVALID,
    429: ErrorCode.RATE_LIMITED,
}

_DESCRIPTIONS = {
    400: "The body cannot be parsed, or the request cannot be carried out as it stands",
    401: "Not logged in, or the token is wrong, expired or revoked",
    403: "Logged in, but not allowed to do this",
    404: "No such thing, or none the caller may see",
    409: "The request clashes with the current state",
    422: "A parameter or the body is invalid (an id out of range included)",
    429: "Too many attempts; try again after Retry-After seconds",
    503: "Too busy to check this now; try again after Retry-After seconds",
}


def code_for_status(status: int) -> ErrorCode:
    """The code an error answer with ``status`` carries when its raiser gave none."""
    return CODE_OF_STATUS.get(status, ErrorCode.INVALID if status < 500 else ErrorCode.INTERNAL)


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entries of the error statuses a route can answer."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "model": InvalidOut if status == 422 else ErrorOut,
            "description": _DESCRIPTIONS[status],
        }
        if status in (429, 503):
            entry["headers"] = {
                "Retry-After": {
                    "description": "seconds to wait before the next attempt",
                    "schema": {"type": "string"},
                }
            }
        out[status] = entry
    return out

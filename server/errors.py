"""Errors of the server, mapped at the edge to HTTP 4xx JSON bodies or protocol `error` messages.

Hierarchy::

    AppError(code, message)            -> 400
    ├── Unauthorized                   -> 401  (no or bad credentials)
    ├── Forbidden                      -> 403  (credentials fine, not allowed)
    │   └── CsrfFailed                 -> 403  (page cookie on a change, not from our pages)
    ├── NotFound                       -> 404
    ├── Conflict                       -> 409
    ├── InvalidInput                   -> 422  (a form field the page cannot use)
    └── RateLimited                    -> 429
        └── ServerBusy                 -> 503  (overloaded; not the caller's fault)
"""

from __future__ import annotations

from protocol import ErrorCode


class AppError(Exception):
    """An error a client caused; ``message`` is safe to show to them."""

    status = 400
    default_code = ErrorCode.INVALID

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class Unauthorized(AppError):
    """No credentials, or credentials that are wrong, expired or revoked."""

    status = 401
    default_code = ErrorCode.UNAUTHORIZED


class Forbidden(AppError):
    """The caller is known but may not do this."""

    status = 403
    default_code = ErrorCode.FORBIDDEN


class CsrfFailed(Forbidden):
    """A change made with the page's session cookie that did not prove it came from our pages."""

    default_code = ErrorCode.CSRF_FAILED


class NotFound(AppError):
    """No such thing (or none the caller may know of)."""

    status = 404
    default_code = ErrorCode.NOT_FOUND


class Conflict(AppError):
    """The request clashes with the current state."""

    status = 409
    default_code = ErrorCode.CONFLICT


class InvalidInput(AppError):
    """A value a form sent is not one it could have sent (the API's 422, for pages)."""

    status = 422
    default_code = ErrorCode.INVALID
    field: str | None = None  # the field at fault, when one is (listed in the JSON's errors)


class RateLimited(AppError):
    """Too many attempts; try again later."""

    status = 429
    default_code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerBusy(RateLimited):
    """Too much work queued already (a flood); try again after ``retry_after`` seconds."""

    status = 503
    default_code = ErrorCode.BUSY

"""Cross-site request forgery guard for API writes made with the page's session cookie.

A browser attaches the session cookie to any request for our address, including one a
hostile page makes (a form posted from another site, or from another port of the same host,
which SameSite=Lax does not stop). So an unsafe request (POST, PUT, PATCH, DELETE) that the
API authenticates by the cookie must also prove it comes from our own pages, by either

- an ``X-CSRF-Token`` header with the session's CSRF token (the one in the pages' forms and
  in ``<meta name="csrf-token">``), or
- an ``Origin`` header (or, when a browser sends none, a ``Referer``) naming this server:
  ``ANXIN_PUBLIC_BASE_URL`` or the request's own ``Host``. Browsers send ``Origin`` on every
  POST/PUT/PATCH/DELETE, so the pages' own ``fetch`` calls pass without doing anything.

Anything else is refused with 403 ``{"code": "csrf_failed"}`` while the caller is being
identified (`server.api.deps.get_current_user`), before the route changes anything. Requests
with ``Authorization: Bearer`` (the TV box, integrations) are not authenticated by the
cookie and never reach this check; nor do routes that need no log-in.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from server.core.security import csrf_token
from server.errors import CsrfFailed

__all__ = ["CSRF_HEADER", "UNSAFE_METHODS", "check_cookie_request"]

log = logging.getLogger(__name__)
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` in lower case; None if it is not an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _from_our_origin(conn: HTTPConnection, public_base_url: str) -> bool:
    # Older browsers and some privacy settings omit Origin; the Referer then tells.
    claimed = conn.headers.get("origin") or conn.headers.get("referer") or ""
    origin = _origin_of(claimed)  # "null" (sandboxed frames, file:) is no origin at all
    if origin is None:
        return False
    host = conn.headers.get("host", "").lower()
    return origin == _origin_of(public_base_url) or urlsplit(origin).netloc == host


def _has_token(conn: HTTPConnection, secret_key: str, session: str) -> bool:
    sent = conn.headers.get(CSRF_HEADER, "")
    return bool(sent) and hmac.compare_digest(csrf_token(secret_key, session), sent)


def check_cookie_request(
    conn: HTTPConnection, session: str, secret_key: str, public_base_url: str
) -> None:
    """Raise `CsrfFailed` if ``conn``, authenticated by the cookie ``session``, may be forged."""
    if conn.scope.get("method", "GET") not in UNSAFE_METHODS:
        return
    if _has_token(conn, secret_key, session) or _from_our_origin(conn, public_base_url):
        return
    # A WARNING, not an ERROR: a client's doing (usually an attack), not a fault of ours.
    log.warning(
        "refused %s %s: session cookie without a CSRF token or our Origin (origin=%r)",
        conn.scope.get("method"),
        conn.url.path,
        conn.headers.get("origin"),
    )
    raise CsrfFailed(
        f"a change made with the page's log-in cookie needs the {CSRF_HEADER} header "
        "or an Origin header naming this server; API clients send "
        "'Authorization: Bearer <token>' instead"
    )

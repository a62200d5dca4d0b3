"""Security headers on every HTTP response: pages, API, static files and errors.

Pages get a strict Content-Security-Policy: only scripts, styles and connections of this
origin, nothing inline (the templates carry no ``<script>`` body, ``style=""`` or ``on*=``),
and no framing. Everything else (JSON, files) gets a CSP that allows nothing at all, which
is what a browser should do with a JSON body opened as a document.

FastAPI's own API explorer (``/docs``, ``/redoc``) loads Swagger UI / ReDoc from a CDN and
starts it with an inline script; it keeps working under a looser policy of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_CSP",
    "DOCS_CSP",
    "OSM_TILE_URL",
    "PAGE_CSP",
    "SecurityHeadersMiddleware",
    "page_csp",
    "security_headers",
    "tile_origin",
]


def _policy(directives: Iterable[str]) -> str:
    return "; ".join(directives)


OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def tile_origin(tile_url: str) -> str:
    """The scheme and host of a map tile URL template ('' when there are no tiles)."""
    parts = urlsplit(tile_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def page_csp(tile_url: str = OSM_TILE_URL) -> str:
    """The pages' policy; map tiles (`Settings.map_tile_url`) are the one image from elsewhere."""
    origin = tile_origin(tile_url)
    return _policy(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' {origin}".strip(),
            # 'self' covers ws:/wss: to this host and port (CSP 3; live.js and calls.js).
            "connect-src 'self'",
            # Call videos play a MediaStream through srcObject, which media-src does not govern.
            "media-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


PAGE_CSP = page_csp()
API_CSP = _policy(("default-src 'none'", "frame-ancestors 'none'"))
# Only for FastAPI's generated API explorer: it is a developer tool with no session data.
DOCS_CSP = _policy(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "font-src 'self' https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
DOCS_PATHS = ("/docs", "/redoc")

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Our own addresses (elder ids) stay on our own pages; same-origin requests keep the
    # Referer, which the API's CSRF check accepts when a browser sends no Origin.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # browsers that predate frame-ancestors
    # The call pages use camera and microphone; nothing else on any page may.
    "Permissions-Policy": (
        "camera=(self), microphone=(self), display-capture=(), geolocation=(), payment=(), usb=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
}


def security_headers(
    path: str, content_type: str, https: bool = False, page_policy: str = PAGE_CSP
) -> dict[str, str]:
    """The headers a response to ``path`` with ``content_type`` should carry."""
    if path == DOCS_PATHS[0] or path.startswith(DOCS_PATHS[0] + "/") or path == DOCS_PATHS[1]:
        csp = DOCS_CSP
    elif content_type.split(";")[0].strip().lower() == "text/html":
        csp = page_policy
    else:
        csp = API_CSP
    headers = {**COMMON_HEADERS, "Content-Security-Policy": csp}
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


class SecurityHeadersMiddleware:
    """Adds `security_headers` to every HTTP response that does not already set them."""

    def __init__(self, app: ASGIApp, https: bool = False, page_policy: str = PAGE_CSP) -> None:
        self.app = app
        self.https = https
        self.page_policy = page_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers as the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                wanted = security_headers(
                    path, headers.get("content-type", ""), self.https, self.page_policy
                )
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

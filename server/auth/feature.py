"""What the log-in feature adds to the server: the token API and the log-in page."""

from __future__ import annotations

from server.auth import account_pages, pages, reset_pages, routes
from server.features import Feature

FEATURE = Feature(
    name="auth",
    routers=(routes.router, pages.router, account_pages.router, reset_pages.router),
)

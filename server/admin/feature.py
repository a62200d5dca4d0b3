"""What administration adds to the server: its JSON API and its pages."""

from __future__ import annotations

from server.admin import pages, routes
from server.features import Feature

FEATURE = Feature(name="admin", routers=(routes.router, pages.router))

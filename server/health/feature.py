"""What the health feature adds to the server."""

from __future__ import annotations

from server.features import Feature
from server.health import routes

FEATURE = Feature(name="health", routers=(routes.router,))

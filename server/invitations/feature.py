"""What the invitations feature adds: the family page of an elder, its API, and accepting."""

from __future__ import annotations

from server.features import Feature
from server.invitations import pages, routes

FEATURE = Feature(name="invitations", routers=(routes.router, pages.router))

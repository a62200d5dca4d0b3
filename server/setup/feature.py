"""What the set-up feature adds: the one-time ``/setup`` page."""

from __future__ import annotations

from server.features import Feature
from server.setup import pages

FEATURE = Feature(name="setup", routers=(pages.router,))

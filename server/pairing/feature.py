"""What the pairing feature adds to the server: the device API and the family page's forms.

(The box's hello with a pairing secret is the box socket's own, in `server.ws.box`.)
"""

from __future__ import annotations

from server.features import Feature
from server.pairing import pages, routes

FEATURE = Feature(name="pairing", routers=(routes.router, pages.router))

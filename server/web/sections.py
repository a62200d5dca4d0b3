"""Sections that features add to the family, doctor and operator pages and to an elder's record.

A feature declares its sections in its `server.features.Feature` (``sections=(Section("family",
"reminders/_family.html", 20, build),)``); the builder gets the request's database session,
runtime, viewer and the elders the viewer may see, and returns the template's context (or None
to leave the section out). Pages render their sections in `order`, below the core content,
inside the live-updated region.

The ``"record"`` page is one elder's record as their doctor reads it (``/doctor/elders/{id}``):
its builders get a list of that one elder, and each section says plainly when it has nothing
("No consults yet") rather than being left out.

A section has a `place` on its page. ``main`` (the default) is below the core content; the
family page shows each one as a closed panel headed by the catalog key `title`. ``urgent``
is a banner above everything (an open SOS, a missed dose, a missed call: the builder returns
None when nothing is urgent); ``glance`` is a line in each elder's "today" card (the builder
returns ``{"by_elder": {elder_id: ...}}``). A future feature (visits) adds its line to the
glance the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from server.models import Elder, User

# build(db, rt, user, elders) -> context; ``rt`` is the `server.runtime.Runtime`, typed Any:
# the runtime holds the sections, so naming it here would make the modules import each other.
Builder = Callable[["Session", Any, "User", "list[Elder]"], "dict[str, Any] | None"]
PAGES = ("family", "doctor", "operator", "record")
PLACES = ("main", "urgent", "glance")


@dataclass(frozen=True)
class Section:
    """One feature's part of a page."""

    page: str
    template: str
    order: int
    build: Builder
    place: str = "main"
    title: str = ""  # catalog key of the panel's heading (``main`` sections of the family page)

    def __post_init__(self) -> None:
        if self.page not in PAGES:
            raise ValueError(f"unknown page {self.page!r}; one of {PAGES}")
        if self.place not in PLACES:
            raise ValueError(f"unknown place {self.place!r}; one of {PLACES}")

    @property
    def name(self) -> str:
        """The feature folder of its template ("reminders"): the panel's id on the page."""
        return self.template.split("/", 1)[0].removesuffix(".html").lstrip("_")

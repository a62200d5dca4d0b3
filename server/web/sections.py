"""Sections that features add to the family, doctor and operator pages.

A feature declares its sections in its `server.features.Feature` (``sections=(Section("family",
"reminders/_family.html", 20, build),)``); the builder gets the request's database session,
runtime, viewer and the elders the viewer may see, and returns the template's context (or None
to leave the section out). Pages render their sections in `order`, below the core content,
inside the live-updated region.
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
PAGES = ("family", "doctor", "operator")


@dataclass(frozen=True)
class Section:
    """One feature's part of a page."""

    page: str
    template: str
    order: int
    build: Builder

    def __post_init__(self) -> None:
        if self.page not in PAGES:
            raise ValueError(f"unknown page {self.page!r}; one of {PAGES}")

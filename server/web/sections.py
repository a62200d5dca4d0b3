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
    from server.runtime import Runtime

Builder = Callable[["Session", "Runtime", "User", "list[Elder]"], "dict[str, Any] | None"]
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


def build_sections(
    page: str, db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) of every section of ``page`` that has something to show."""
    out = []
    for section in rt.wiring.sections:
        if section.page != page:
            continue
        context = section.build(db, rt, user, elders)
        if context is not None:
            out.append((section.template, context))
    return out

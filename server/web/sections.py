"""Sections that features add to the family, doctor and operator pages.

A feature registers a builder with `@page_section("family", "reminders/_family.html")`; the
builder gets the request's database session, runtime, viewer and the elders the viewer may
see, and returns the template's context (or None to leave the section out). Pages render
their sections in `order`, below the core content, inside the live-updated region.
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


SECTIONS: list[Section] = []


def page_section(page: str, template: str, order: int = 50) -> Callable[[Builder], Builder]:
    """Register ``build(db, rt, user, elders) -> context`` for ``template`` on ``page``."""
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}; one of {PAGES}")

    def decorate(build: Builder) -> Builder:
        SECTIONS.append(Section(page, template, order, build))
        SECTIONS.sort(key=lambda s: (s.page, s.order, s.template))
        return build

    return decorate


def build_sections(
    page: str, db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) of every section of ``page`` that has something to show."""
    out = []
    for section in SECTIONS:
        if section.page != page:
            continue
        context = section.build(db, rt, user, elders)
        if context is not None:
            out.append((section.template, context))
    return out

"""Features add sections to pages; a section sees only the elders the viewer may see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from jinja2 import DictLoader

from server.web import pages
from server.web.sections import SECTIONS, page_section
from tests.support.world import PASSWORD, World


@pytest.fixture
def names_section() -> Iterator[None]:
    loader = pages.templates.env.loader
    extra = DictLoader({"_names.html": "<p id='names'>{{ data.names|join(',') }}</p>"})
    from jinja2 import ChoiceLoader

    pages.templates.env.loader = ChoiceLoader([loader, extra])  # type: ignore[list-item]

    @page_section("family", "_names.html")
    def build(db, rt, user, elders):  # type: ignore[no-untyped-def]
        return {"names": [e.name for e in elders]}

    yield
    SECTIONS[:] = [s for s in SECTIONS if s.template != "_names.html"]
    pages.templates.env.loader = loader


def test_a_registered_section_renders_with_the_viewers_elders(
    client: TestClient, world: World, names_section: None
) -> None:
    client.post("/login", data={"email": world.family_a.email, "password": PASSWORD})
    page = client.get("/family", headers={"accept": "text/html"}).text
    assert f"<p id='names'>{world.elder_a.name}</p>" in page


def test_unknown_pages_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown page"):
        page_section("kitchen", "x.html")

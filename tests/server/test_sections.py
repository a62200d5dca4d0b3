"""Features add sections to pages; a section sees only the elders the viewer may see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from jinja2 import DictLoader

from server.app import FEATURES, create_app
from server.features import Feature, Section
from server.runtime import Runtime
from server.web import pages
from tests.support.world import PASSWORD, World


@pytest.fixture
def names_client(rt: Runtime) -> Iterator[TestClient]:
    loader = pages.templates.env.loader
    extra = DictLoader({"_names.html": "<p id='names'>{{ data.names|join(',') }}</p>"})
    from jinja2 import ChoiceLoader

    pages.templates.env.loader = ChoiceLoader([loader, extra])  # type: ignore[list-item]

    def build(db, rt, user, elders):  # type: ignore[no-untyped-def]
        return {"names": [e.name for e in elders]}

    names = Feature(name="names", sections=(Section("family", "_names.html", 50, build),))
    with TestClient(create_app(runtime=rt, features=(*FEATURES, names))) as client:
        yield client
    pages.templates.env.loader = loader


def test_a_declared_section_renders_with_the_viewers_elders(
    names_client: TestClient, world: World
) -> None:
    client = names_client
    client.post("/login", data={"email": world.family_a.email, "password": PASSWORD})
    page = client.get("/family", headers={"accept": "text/html"}).text
    assert f"<p id='names'>{world.elder_a.name}</p>" in page


def test_unknown_pages_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown page"):
        Section("kitchen", "x.html", 50, lambda db, rt, user, elders: None)

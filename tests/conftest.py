"""Fixtures shared by every test package: databases, the app, live servers, browsers."""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.core.config import Settings
from server.core.db import Database
from server.runtime import Runtime
from tests.support.databases import migrated_database
from tests.support.error_logs import MARKER, SERVER_LOGS, ErrorRecords, unexpected
from tests.support.live_server import ROOT, LiveServer
from tests.support.netns import netns_loopback_guard, netns_runtest_protocol
from tests.support.world import PASSWORD, World, make_world
from voice.grammar import PhraseGrammar, load_grammar
from voice.models import LoadedModel, ModelSetting, load_model

# Tests marked `netns` (anything where ICE runs) re-run inside a loopback-only namespace.
pytest_runtest_protocol = netns_runtest_protocol
netns_guard = netns_loopback_guard

os.environ.setdefault("KIVY_NO_ARGS", "1")
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(autouse=True)
def no_error_logged(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if an ERROR was logged here or by its server processes, unless expected.

    Expected errors are declared with ``@pytest.mark.expect_error_log("regex", ...)``.
    """
    handler = ErrorRecords()
    SERVER_LOGS.starts.clear()
    handler.install()
    try:
        yield  # torn down last: live servers have stopped and written their logs by now
    finally:
        handler.remove()
    patterns = [p for m in request.node.iter_markers(MARKER) for p in m.args]
    left = unexpected(handler.records, SERVER_LOGS.error_lines(), patterns)
    SERVER_LOGS.starts.clear()
    if left:
        pytest.fail("unexpected ERROR logged:\n" + "\n".join(left), pytrace=False)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database (SQLite, or PostgreSQL by ANXIN_TEST_DATABASE_URL)."""
    with migrated_database(tmp_path) as url:
        yield url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings of an in-process server for one test."""
    return Settings(database_url=db_url, data_dir=tmp_path / "data", ws_dead_after_seconds=30)


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    """The runtime of an in-process server."""
    runtime = Runtime.from_settings(settings)
    yield runtime
    runtime.db.dispose()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    """A client of the real ASGI app, lifespan included."""
    with TestClient(create_app(runtime=rt)) as test_client:
        yield test_client


@pytest.fixture
def world(rt: Runtime) -> World:
    """Two families, clinics and areas with every role on each side."""
    with rt.db.session() as db:
        return make_world(db)


def bearer(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through the API; the Authorization header to use."""
    resp = client.post("/api/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.fixture
def seeded(db_url: str) -> World:
    """The world, written to the test's database (for a live server process to serve)."""
    database = Database(db_url)
    with database.session() as db:
        world = make_world(db)
    database.dispose()
    return world


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A real `anxin-server` process on a free port over a fresh database."""
    server = LiveServer(db_url=db_url, data_dir=tmp_path / "server")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def screenshots() -> Path:
    """Where tests save screenshots for people to look at."""
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- speech recognition: shared by tests/voice and tests/tvbox, so the model loads once ---


@pytest.fixture(scope="session")
def ko_model() -> LoadedModel:
    """The Korean Vosk model from PyPI, loaded once per test session (~3 s, ~600 MB)."""
    return load_model(ModelSetting("ko"), allow_download=False)


@pytest.fixture(scope="session")
def ko_grammar() -> PhraseGrammar:
    """The Korean phrase grammar (voice/grammars/ko.json)."""
    return load_grammar("ko")


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where espeak-ng test speech is kept for the session (cached by text)."""
    return tmp_path_factory.mktemp("speech")


# --- tests that drive Chromium: marked `chromium`, found by what they (or their fixtures) call ---

CHROMIUM_CALLS = re.compile(r"\b(chromium|browser_page|family_page)\(")
CALLED = re.compile(r"\b([A-Za-z_]\w*)\(")


def _source(function: object) -> str:
    try:
        return inspect.getsource(function)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def _drives_chromium(item: pytest.Item) -> bool:
    function = getattr(item, "function", None)
    if function is None:
        return False
    sources = [_source(function)]
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        sources += [_source(d.func) for d in defs]
    # One step into the test module's own helpers (a scenario function the test calls).
    module = vars(getattr(item, "module", None) or object())
    helpers = {name for text in sources for name in CALLED.findall(text)}
    sources += [_source(module[name]) for name in helpers if inspect.isfunction(module.get(name))]
    return any(CHROMIUM_CALLS.search(text) for text in sources)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _drives_chromium(item):
            item.add_marker(pytest.mark.chromium)

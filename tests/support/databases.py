"""Throw-away databases for tests: a SQLite file, or a fresh schema in PostgreSQL.

The backend is chosen by ``ANXIN_TEST_DATABASE_URL``: unset means SQLite; a PostgreSQL URL
(e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) gives each test its own schema.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
from sqlalchemy import make_url

BASE_URL = os.environ.get("ANXIN_TEST_DATABASE_URL", "")
# Where tests that must run on both databases whatever the suite's backend find PostgreSQL.
POSTGRES_URL = BASE_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def backend() -> str:
    """'postgresql' or 'sqlite'."""
    return "postgresql" if BASE_URL.startswith("postgresql") else "sqlite"


@contextmanager
def fresh_database(directory: Path, kind: str | None = None) -> Iterator[str]:
    """Yield the URL of an empty database and drop it afterwards (``kind``: 'sqlite' or
    'postgresql' whatever the suite runs on; default the suite's backend)."""
    if (kind or backend()) == "sqlite":
        yield f"sqlite:///{directory / f'anxin-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    with _schema(BASE_URL if kind is None else POSTGRES_URL) as (_name, url):
        yield url


# A migrated database, made by copying one that was migrated once per test run: running every
# migration for each of some 3,000 test runs cost about 0.4 s apiece on each backend.
# `tests/server/test_migrations.py` still runs the migrations themselves from an empty database.
_PLACEHOLDER = "anxin_template_schema"


@contextmanager
def migrated_database(directory: Path, kind: str | None = None) -> Iterator[str]:
    """Yield the URL of a database holding exactly what `server.migrate.upgrade` makes of an
    empty one, and drop it afterwards (``kind`` as in `fresh_database`)."""
    if (kind or backend()) == "sqlite":
        target = directory / f"anxin-{uuid.uuid4().hex[:8]}.sqlite3"
        source = sqlite3.connect(_sqlite_template())
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        yield f"sqlite:///{target}"
        return
    base = BASE_URL if kind is None else POSTGRES_URL
    dump = _postgres_dump(base)
    if dump is None:  # no pg_dump here: migrate this one
        with fresh_database(directory, kind) as url:
            _upgrade(url)
            yield url
        return
    with _schema(base, dump) as (_name, url):
        yield url


@contextmanager
def _schema(base: str, build: str | None = None) -> Iterator[tuple[str, str]]:
    """A new PostgreSQL schema, empty or made by ``build`` (SQL naming it `_PLACEHOLDER`): its
    name and a URL whose search path is it; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    sql = build.replace(_PLACEHOLDER, schema) if build else f'CREATE SCHEMA "{schema}"'
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(sql.encode())
    sep = "&" if "?" in base else "?"
    try:
        yield schema, f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(_libpq(base), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE'.encode())


def _upgrade(url: str) -> None:
    from server.core.db import Database
    from server.migrate import upgrade

    database = Database(url)
    try:
        upgrade(database.engine)
    finally:
        database.dispose()


@functools.cache
def _sqlite_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="anxin-template-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "migrated.sqlite3"
    _upgrade(f"sqlite:///{path}")
    return path


def _libpq(url: str) -> str:
    """``url`` as libpq takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@functools.cache
def _postgres_dump(base: str) -> str | None:
    """The SQL that rebuilds a freshly migrated schema (its name left as a placeholder), or
    None where pg_dump is missing."""
    if shutil.which("pg_dump") is None:
        return None
    with _schema(base) as (schema, url):
        _upgrade(url)
        made = subprocess.run(
            ["pg_dump", "--no-owner", "--no-privileges", "--inserts", "-n", schema, _libpq(base)],
            capture_output=True,
            text=True,
            check=True,
        )
    # psql's own commands (\restrict …) are not SQL; the schema's name is unique.
    lines = [line for line in made.stdout.splitlines() if not line.startswith("\\")]
    return "\n".join(lines).replace(schema, _PLACEHOLDER)

"""Throw-away databases for tests: a SQLite file, or a fresh schema in PostgreSQL.

The backend is chosen by ``ANXIN_TEST_DATABASE_URL``: unset means SQLite; a PostgreSQL URL
(e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) gives each test its own schema.
"""

from __future__ import annotations

import atexit
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
from sqlalchemy import create_engine, make_url, text

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
    base = BASE_URL if kind is None else POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# A migrated database, made by copying one that was migrated once per test run: running every
# migration for each of some 1,500 tests cost about 0.4 s apiece on each backend.
# `tests/server/test_migrations.py` still runs the migrations themselves from an empty database.
_SQLITE_TEMPLATE: list[Path] = []
_POSTGRES_DUMPS: dict[str, str | None] = {}
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
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(dump.replace(_PLACEHOLDER, schema).encode())
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _upgrade(url: str) -> None:
    from server.core.db import Database
    from server.migrate import upgrade

    database = Database(url)
    try:
        upgrade(database.engine)
    finally:
        database.dispose()


def _sqlite_template() -> Path:
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="anxin-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "migrated.sqlite3"
        _upgrade(f"sqlite:///{path}")
        _SQLITE_TEMPLATE.append(path)
    return _SQLITE_TEMPLATE[0]


def _libpq(url: str) -> str:
    """``url`` as libpq takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_dump(base: str) -> str | None:
    """The SQL that rebuilds a freshly migrated schema (its name left as a placeholder), or
    None where pg_dump is missing."""
    if base not in _POSTGRES_DUMPS:
        _POSTGRES_DUMPS[base] = None
        if shutil.which("pg_dump") is not None:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(_libpq(base), autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"'.encode())
            try:
                sep = "&" if "?" in base else "?"
                _upgrade(f"{base}{sep}options={quote(f'-csearch_path={schema}')}")
                made = subprocess.run(
                    ["pg_dump", "--no-owner", "--no-privileges", "--inserts", "-n", schema]
                    + [_libpq(base)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
            finally:
                with psycopg.connect(_libpq(base), autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE'.encode())
            # psql's own commands (\restrict …) are not SQL; the schema's name is unique.
            lines = [line for line in made.stdout.splitlines() if not line.startswith("\\")]
            _POSTGRES_DUMPS[base] = "\n".join(lines).replace(schema, _PLACEHOLDER)
    return _POSTGRES_DUMPS[base]

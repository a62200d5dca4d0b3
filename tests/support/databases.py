"""Throw-away databases for tests: a SQLite file, or a fresh schema in PostgreSQL.

The backend is chosen by ``ANXIN_TEST_DATABASE_URL``: unset means SQLite; a PostgreSQL URL
(e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) gives each test its own schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

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

"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.core.db import Database
from server.models import Base


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    database = Database(db_url)
    try:
        with database.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": False}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        database.dispose()
    assert diff == [], f"a migration is missing for: {diff}"

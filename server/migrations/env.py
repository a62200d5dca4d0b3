"""Alembic environment: runs migrations on the URL handed over by `server.migrate`."""

from __future__ import annotations

from alembic import context

from server.core.db import make_engine
from server.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Apply migrations over a live connection (batch mode keeps SQLite ALTERs working)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

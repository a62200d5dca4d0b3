"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from protocol import SosRaise, SosSource
from server.audit import first_receipt
from server.core.db import Database
from server.migrate import alembic_config, upgrade
from server.models import Base, CareLink, Device, Elder, ReceivedMessage, SosAlert, SosStep
from server.sos.alerts import store_alert
from tests.support.databases import fresh_database


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


def test_existing_keys_become_device_scoped_on_upgrade(tmp_path: Path) -> None:
    """A database from before 0010, with alerts and applied messages, upgrades cleanly."""
    with fresh_database(tmp_path) as url:
        database = Database(url)
        try:
            cfg = alembic_config(url)
            with database.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "0004_sos")
                for statement in OLD_ROWS:
                    conn.execute(text(statement))
            upgrade(database.engine)
            with database.sessions() as db:
                kept = db.execute(
                    select(SosAlert.id, SosAlert.device_id, SosAlert.key).order_by(SosAlert.id)
                ).all()
                assert [tuple(r) for r in kept] == [
                    (1, 1, "sensor-fall-0001"),
                    (2, None, "box-gone-0001"),
                ]
                assert db.scalar(select(func.count()).select_from(SosStep)) == 1
                assert db.scalar(select(func.count()).select_from(CareLink)) == 1
                received = db.execute(select(ReceivedMessage.device_id, ReceivedMessage.key))
                assert [tuple(r) for r in received] == [(1, "settings-0001")]
                box_a, box_b = db.get(Device, 1), db.get(Device, 2)
                elder_b = db.get(Elder, 2)
                assert box_a and box_b and elder_b
                # Home B may now use home A's key; home A's resend still finds its old alert.
                raised = SosRaise(key="sensor-fall-0001", source=SosSource.SENSOR)
                alert_b, created_b = store_alert(db, elder_b, box_b, raised, 60)
                assert created_b and alert_b.id not in (1, 2)
                alert_a, created_a = store_alert(db, elder_b, box_a, raised, 60)
                assert (alert_a.id, created_a) == (1, False)
                assert first_receipt(db, 2, "settings-0001", "box_settings")
                assert not first_receipt(db, 1, "settings-0001", "box_settings")
                db.commit()
            # The database itself refuses a second (device, key), whatever the code does.
            with pytest.raises(IntegrityError), database.engine.begin() as conn:
                conn.execute(text(old_alert("sensor-fall-0001", "1")))
        finally:
            database.dispose()


def old_alert(key: str, device_id: str) -> str:
    """An INSERT of an open alert of elder 1 as 0004 stored it (ids from the sequence)."""
    return (
        "INSERT INTO sos_alerts (key, elder_id, device_id, source, detail, status, "
        f"raised_at, stored_at, level, note) VALUES ('{key}', 1, {device_id}, "
        "'sensor', 'fall', 'open', '2026-11-02 00:00:00', '2026-11-02 00:00:00', 0, '')"
    )


OLD_ROWS = [
    "INSERT INTO elders (id, name, lang, timezone, address, lives_alone, care_notes, created_at,"
    " updated_at) VALUES (1, 'A', 'zh', 'Asia/Shanghai', '', false, '', '2026-11-01 00:00:00',"
    " '2026-11-01 00:00:00'), (2, 'B', 'en', 'Europe/London', '', false, '',"
    " '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    "INSERT INTO devices (id, elder_id, token_hash, name, app_version, paired_at) VALUES"
    " (1, 1, 'hash-a', 'TV box', '', '2026-11-01 00:00:00'),"
    " (2, 2, 'hash-b', 'TV box', '', '2026-11-01 00:00:00')",
    "INSERT INTO received_messages (key, device_id, type, received_at)"
    " VALUES ('settings-0001', 1, 'box_settings', '2026-11-02 00:00:00')",
    old_alert("sensor-fall-0001", "1"),
    # Its box was deleted (device_id SET NULL): outside the new constraint, kept as it is.
    old_alert("box-gone-0001", "NULL"),
    # Rows that refer to tables a migration rebuilds on SQLite (sos_alerts, users, elders):
    # rebuilding must not cascade to them.
    "INSERT INTO sos_steps (alert_id, at, kind, level, detail) VALUES"
    " (1, '2026-11-02 00:00:00', 'raised', 0, '')",
    "INSERT INTO users (id, email, name, password_hash, role, lang, phone, is_active, created_at)"
    " VALUES (1, 'f@example.com', 'F', 'x', 'family', 'zh', '', true, '2026-11-01 00:00:00')",
    "INSERT INTO care_links (user_id, elder_id, relation, created_at)"
    " VALUES (1, 1, 'daughter', '2026-11-01 00:00:00')",
]

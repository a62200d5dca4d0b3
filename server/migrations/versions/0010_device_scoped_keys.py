"""device-scoped idempotency keys: an SOS or outbox key is unique per sending box, not globally

Boxes and their sensors choose their own keys ("sensor-fall-0001" from two homes), so a key
that was unique across the whole server let one home's SOS be taken for another's resend.

- ``sos_alerts``: UNIQUE(key) becomes UNIQUE(device_id, key). Existing keys were unique
  globally, so they are unique per device too: no row changes. Rows whose ``device_id`` is
  NULL (their box was deleted) fall outside the constraint, as NULLs are distinct in both
  SQLite and PostgreSQL; that is what we want: no box can ever resend their keys.
- ``received_messages``: the primary key (key) becomes (device_id, key); ``device_id`` is
  NOT NULL already, so every existing row converts as it is.

Downgrade restores the global keys; it fails (and changes nothing) if two boxes have since
used the same key, because choosing whose message to forget is not a migration's call.

Revision ID: 0010_device_scoped_keys
Revises: 0004_sos
Create Date: 2026-12-05 08:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_device_scoped_keys"
# 0004 made sos_alerts; received_messages comes from 0001, which 0004 revises.
down_revision: str | None = "0004_sos"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sos_alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_sos_alerts_key"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_sos_alerts_device_id"), ["device_id", "key"]
        )
    with op.batch_alter_table("received_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("pk_received_messages"), type_="primary")
        batch_op.create_primary_key(batch_op.f("pk_received_messages"), ["device_id", "key"])


def downgrade() -> None:
    with op.batch_alter_table("received_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("pk_received_messages"), type_="primary")
        batch_op.create_primary_key(batch_op.f("pk_received_messages"), ["key"])
    with op.batch_alter_table("sos_alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_sos_alerts_device_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_sos_alerts_key"), ["key"])

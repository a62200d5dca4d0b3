"""index pairing requests by device: every box hello looks its pairing up by device

Revision ID: 0007_pairing_device_index
Revises: 0001
Create Date: 2026-11-22 10:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_pairing_device_index"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pairing_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pairing_requests_device_id"), ["device_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pairing_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pairing_requests_device_id"))

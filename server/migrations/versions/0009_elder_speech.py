"""elder speech: how fast and how loud the TV speaks to each elder

Revision ID: 0009_elder_speech
Revises: 0001
Create Date: 2026-12-02 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_elder_speech"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("elders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("speech_rate_wpm", sa.Integer(), nullable=False, server_default="140")
        )
        batch_op.add_column(
            sa.Column("speech_volume_pct", sa.Integer(), nullable=False, server_default="100")
        )


def downgrade() -> None:
    with op.batch_alter_table("elders", schema=None) as batch_op:
        batch_op.drop_column("speech_volume_pct")
        batch_op.drop_column("speech_rate_wpm")

"""sweep marks: how far the missed-dose sweep got, so it catches up after an outage

Revision ID: 0008_sweep_marks
Revises: 0002_reminders
Create Date: 2026-11-22 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0008_sweep_marks"
down_revision: str | None = "0002_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sweep_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("swept_until", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sweep_marks")),
    )


def downgrade() -> None:
    op.drop_table("sweep_marks")

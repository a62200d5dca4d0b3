"""visit travel: the minutes an elder needs to reach their clinic (set by the family); the TV
says "leave by" that long before a clinic visit

Revision ID: 0015_visit_travel
Revises: 0014_appointments
Create Date: 2026-12-06 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_visit_travel"
down_revision: str | None = "0014_appointments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column: SQLite adds it without rebuilding the table.
    op.add_column("elders", sa.Column("visit_travel_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elders") as batch:
        batch.drop_column("visit_travel_minutes")

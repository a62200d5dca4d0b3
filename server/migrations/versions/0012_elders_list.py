"""elders list: indexes for an area's elders by name and by phone (100 000 in one area)

Revision ID: 0012_elders_list
Revises: 0011_administration
Create Date: 2026-12-05 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_elders_list"
down_revision: str | None = "0011_administration"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Indexes only: SQLite adds them without rebuilding the table.
    op.create_index("ix_elders_area_name", "elders", ["service_area_id", "name", "id"])
    op.create_index("ix_elders_area_phone", "elders", ["service_area_id", "phone"])


def downgrade() -> None:
    op.drop_index("ix_elders_area_phone", table_name="elders")
    op.drop_index("ix_elders_area_name", table_name="elders")

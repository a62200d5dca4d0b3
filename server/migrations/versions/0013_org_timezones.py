"""organisation time zones: a service area's and a clinic's IANA zone (staff pages show times in it)

Revision ID: 0013_org_timezones
Revises: 0012_elders_list
Create Date: 2026-12-05 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_org_timezones"
down_revision: str | None = "0012_elders_list"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN with a constant default: SQLite adds it without rebuilding the table.
    for table in ("service_areas", "clinics"):
        op.add_column(
            table,
            sa.Column("timezone", sa.String(64), nullable=False, server_default="Asia/Shanghai"),
        )


def downgrade() -> None:
    for table in ("clinics", "service_areas"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("timezone")

"""appointment updated: when a visit last changed (booked, marked, moved, cancelled), so
``GET /fhir/Appointment?_lastUpdated=gt…`` reports arrivals, no-shows and moves too

Revision ID: 0018_appointment_updated
Revises: 0017_meals
Create Date: 2026-12-06 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0018_appointment_updated"
down_revision: str | None = "0017_meals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added nullable, filled from what we know (the cancellation, else the booking), then
    # made NOT NULL: SQLite cannot add a NOT NULL column without a constant default.
    op.add_column(
        "appointments",
        sa.Column("updated_at", server.models.base.UTCDateTime(), nullable=True),
    )
    op.execute("UPDATE appointments SET updated_at = COALESCE(cancelled_at, created_at)")
    with op.batch_alter_table("appointments") as batch:
        batch.alter_column(
            "updated_at", existing_type=server.models.base.UTCDateTime(), nullable=False
        )
    op.create_index("ix_appointments_updated", "appointments", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_appointments_updated", table_name="appointments")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("updated_at")

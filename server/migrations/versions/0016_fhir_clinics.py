"""fhir clinics: a clinic's FHIR R4 base URL and auth header, its poll mark; the remote ids of
mirrored slots and visits; a doctor's Practitioner reference at a clinic that runs its own system

Revision ID: 0016_fhir_clinics
Revises: 0014_appointments
Create Date: 2026-12-06 05:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0016_fhir_clinics"
down_revision: str | None = "0015_visit_travel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinics") as batch:
        batch.add_column(sa.Column("fhir_base_url", sa.String(length=500), nullable=True))
        batch.add_column(
            sa.Column("fhir_auth_header", sa.String(length=1000), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("fhir_polled_at", server.models.base.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("fhir_practitioner", sa.String(length=200), nullable=True))
    with op.batch_alter_table("slots") as batch:
        batch.add_column(sa.Column("remote_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_slots_clinic_id", ["clinic_id", "remote_id"])
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("remote_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            "uq_appointments_clinic_id", ["clinic_id", "remote_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_constraint("uq_appointments_clinic_id", type_="unique")
        batch.drop_column("remote_id")
    with op.batch_alter_table("slots") as batch:
        batch.drop_constraint("uq_slots_clinic_id", type_="unique")
        batch.drop_column("remote_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("fhir_practitioner")
    with op.batch_alter_table("clinics") as batch:
        batch.drop_column("fhir_polled_at")
        batch.drop_column("fhir_auth_header")
        batch.drop_column("fhir_base_url")

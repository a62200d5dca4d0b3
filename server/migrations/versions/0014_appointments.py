"""appointments: clinic departments, weekly opening hours per doctor, closures, slots
materialised in UTC (CHECK booked <= capacity), holds, visits, and a lock row per elder

Revision ID: 0014_appointments
Revises: 0013_org_timezones
Create Date: 2026-12-06 01:18:11.860145
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0014_appointments"
down_revision: str | None = "0013_org_timezones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_departments_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("clinic_id", "code", name=op.f("uq_departments_clinic_id")),
    )
    op.create_table(
        "appointment_locks",
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["elder_id"], ["elders.id"], name=op.f("fk_appointment_locks_elder_id_elders")
        ),
        sa.PrimaryKeyConstraint("elder_id", name=op.f("pk_appointment_locks")),
    )
    op.create_table(
        "closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_closures_span")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_closures_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_closures_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["users.id"], name=op.f("fk_closures_doctor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closures")),
    )
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.create_index("ix_closures_clinic", ["clinic_id", "starts_at"], unique=False)

    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.String(length=40), nullable=False),
        sa.Column("created_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "slot_minutes >= 5 AND capacity >= 1", name=op.f("ck_opening_hours_slot")
        ),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name=op.f("ck_opening_hours_span"),
        ),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name=op.f("ck_opening_hours_weekday")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_opening_hours_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_opening_hours_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["users.id"], name=op.f("fk_opening_hours_doctor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_hours")),
    )
    with op.batch_alter_table("opening_hours", schema=None) as batch_op:
        batch_op.create_index("ix_opening_hours_clinic", ["clinic_id", "doctor_id"], unique=False)

    op.create_table(
        "slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("hours_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.String(length=40), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name=op.f("ck_slots_capacity")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_slots_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_slots_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["doctor_id"], ["users.id"], name=op.f("fk_slots_doctor_id_users")),
        sa.ForeignKeyConstraint(
            ["hours_id"],
            ["opening_hours.id"],
            name=op.f("fk_slots_hours_id_opening_hours"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slots")),
        sa.UniqueConstraint("doctor_id", "starts_at", name=op.f("uq_slots_doctor_id")),
    )
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.create_index("ix_slots_clinic_starts", ["clinic_id", "starts_at"], unique=False)
        batch_op.create_index(
            "ix_slots_department_starts", ["department_id", "starts_at"], unique=False
        )
        batch_op.create_index("ix_slots_starts", ["starts_at"], unique=False)

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("clinic", "video", "home", name="visitkind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "cancelled",
                "arrived",
                "no_show",
                "done",
                name="appointmentstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "booked_by",
            sa.Enum(
                "elder_box", "family", "operator", name="bookedby", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("booked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("booked_by_device_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", server.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booked_by_device_id"],
            ["devices.id"],
            name=op.f("fk_appointments_booked_by_device_id_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["booked_by_user_id"],
            ["users.id"],
            name=op.f("fk_appointments_booked_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_appointments_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_appointments_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["users.id"], name=op.f("fk_appointments_doctor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["elder_id"], ["elders.id"], name=op.f("fk_appointments_elder_id_elders")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_appointments_slot_id_slots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("sender", "idempotency_key", name=op.f("uq_appointments_sender")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointments_clinic_starts", ["clinic_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_appointments_elder_starts", ["elder_id", "starts_at"], unique=False
        )
        batch_op.create_index("ix_appointments_slot", ["slot_id"], unique=False)

    op.create_table(
        "slot_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=40), nullable=False),
        sa.Column("expires_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["elder_id"], ["elders.id"], name=op.f("fk_slot_holds_elder_id_elders")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_slot_holds_slot_id_slots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_holds")),
    )
    with op.batch_alter_table("slot_holds", schema=None) as batch_op:
        batch_op.create_index("ix_slot_holds_slot_expires", ["slot_id", "expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("slot_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_slot_holds_slot_expires")

    op.drop_table("slot_holds")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_slot")
        batch_op.drop_index("ix_appointments_elder_starts")
        batch_op.drop_index("ix_appointments_clinic_starts")

    op.drop_table("appointments")
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_index("ix_slots_starts")
        batch_op.drop_index("ix_slots_department_starts")
        batch_op.drop_index("ix_slots_clinic_starts")

    op.drop_table("slots")
    with op.batch_alter_table("opening_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_opening_hours_clinic")

    op.drop_table("opening_hours")
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.drop_index("ix_closures_clinic")

    op.drop_table("closures")
    op.drop_table("appointment_locks")
    op.drop_table("departments")

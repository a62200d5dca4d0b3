"""administration: staff scoped to one organisation, elders registered and deactivated,
one-time e-mailed links (invitations, password resets), sessions people can see, audit targets

Revision ID: 0011_administration
Revises: 0001
Create Date: 2026-12-05 16:10:56
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0011_administration"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "one_time_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("invite", "reset", name="linkpurpose", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("elder_id", sa.Integer(), nullable=True),
        sa.Column("relation", sa.String(length=60), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", server.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_one_time_links_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["elder_id"],
            ["elders.id"],
            name=op.f("fk_one_time_links_elder_id_elders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_one_time_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_links_token_hash")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("target", sa.String(length=60), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_actor_user_id"), ["actor_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_log_target"), ["target"], unique=False)

    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), nullable=False, server_default="1")
        )

    with op.batch_alter_table("elders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("register_ref", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column(
                "deactivated_at", server.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            "ix_elders_service_area_id_id", ["service_area_id", "id"], unique=False
        )
        batch_op.create_index(
            "uq_elders_service_area_id_register_ref",
            ["service_area_id", "register_ref"],
            unique=True,
        )

    with op.batch_alter_table("service_areas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("centre_latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("centre_longitude", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("boundary_geojson", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), nullable=False, server_default="1")
        )

    with op.batch_alter_table("service_points", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), nullable=False, server_default="1")
        )

    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("user_agent", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("ip", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("last_seen_at", server.models.base.UTCDateTime(timezone=True), nullable=True)
        )

    # Plain ALTER TABLE ADD COLUMN with the foreign key on the column: in batch mode SQLite
    # would rebuild "users", and dropping the old table cascades to care links and sessions.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE users ADD COLUMN service_point_id INTEGER"
            " CONSTRAINT fk_users_service_point_id_service_points"
            " REFERENCES service_points (id)"
        )
    else:
        op.add_column("users", sa.Column("service_point_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_users_service_point_id_service_points",
            "users",
            "service_points",
            ["service_point_id"],
            ["id"],
        )
    op.add_column(
        "users",
        sa.Column("deactivated_at", server.models.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "users",
        sa.Column(
            "password_changed_at", server.models.base.UTCDateTime(timezone=True), nullable=True
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_users_service_point_id_service_points"), type_="foreignkey"
        )
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("service_point_id")

    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("ip")
        batch_op.drop_column("user_agent")

    with op.batch_alter_table("service_points", schema=None) as batch_op:
        batch_op.drop_column("is_active")

    with op.batch_alter_table("service_areas", schema=None) as batch_op:
        batch_op.drop_column("is_active")
        batch_op.drop_column("boundary_geojson")
        batch_op.drop_column("centre_longitude")
        batch_op.drop_column("centre_latitude")

    with op.batch_alter_table("elders", schema=None) as batch_op:
        batch_op.drop_index("uq_elders_service_area_id_register_ref")
        batch_op.drop_index("ix_elders_service_area_id_id")
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("is_active")
        batch_op.drop_column("register_ref")
        batch_op.drop_column("phone")

    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_column("is_active")

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_target"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))
        batch_op.drop_column("target")

    op.drop_table("one_time_links")

"""elder calls the family: calls.from_elder and the family members each call rang

Revision ID: 0005_elder_calls
Revises: 0003_consults
Create Date: 2026-11-22 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0005_elder_calls"
down_revision: str | None = "0003_consults"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("from_elder", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "call_rings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rung_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("declined_at", server.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_rings_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_call_rings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_rings")),
        sa.UniqueConstraint("call_id", "user_id", name=op.f("uq_call_rings_call_id")),
    )
    with op.batch_alter_table("call_rings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_rings_call_id"), ["call_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call_rings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_rings_call_id"))
    op.drop_table("call_rings")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("from_elder")

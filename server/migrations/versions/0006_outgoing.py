"""outgoing e-mails and text messages, delivered and retried from the database

Revision ID: 0006_outgoing
Revises: 0001
Create Date: 2026-11-22 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0006_outgoing"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = server.models.base.UTCDateTime(timezone=True)
    op.create_table(
        "outgoing_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("email", "text", name="channel", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", when, nullable=True),
        sa.Column("sent_at", when, nullable=True),
        sa.Column("failed_at", when, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_outgoing_messages_key")),
    )
    op.create_index(
        "ix_outgoing_messages_due",
        "outgoing_messages",
        ["sent_at", "failed_at", "due_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_outgoing_messages_due", table_name="outgoing_messages")
    op.drop_table("outgoing_messages")

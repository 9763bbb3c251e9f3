"""The outbox: replies owed to a chat live in a table of their own, leased to the process sending them.

processed_updates keeps only which updates were applied. Replies it still held (sent by 0006's
code only when Telegram redelivered their update) carry no chat since 0006, so they cannot be
moved to the outbox: they are dropped with the column (at most the replies in flight when the
previous version stopped).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_chat_id", "outbox", ["chat_id"])
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("replies")


def downgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("replies", sa.JSON(none_as_null=True), nullable=True))
    op.drop_index("ix_outbox_chat_id", table_name="outbox")
    op.drop_table("outbox")

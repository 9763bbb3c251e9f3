"""Processed updates in one B-tree: no user column, no secondary index, replies cleared on delivery.

Every turn writes this table; each index it had was one more page written per commit. On
SQLite the update id becomes the rowid. Rows are copied; replies already delivered are dropped.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UpdateId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "processed_updates_new",
        sa.Column("update_id", UpdateId, autoincrement=False, nullable=False),
        sa.Column("replies", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="processed_updates_new_pkey"),
    )
    op.execute(
        "INSERT INTO processed_updates_new (update_id, replies, created_at) "
        "SELECT update_id, CASE WHEN delivered_at IS NULL THEN replies END, created_at FROM processed_updates"
    )
    op.drop_table("processed_updates")  # with its indexes
    op.rename_table("processed_updates_new", "processed_updates")
    if op.get_bind().dialect.name == "postgresql":  # constraint names are the schema's, not the table's
        op.execute(
            "ALTER TABLE processed_updates RENAME CONSTRAINT processed_updates_new_pkey TO processed_updates_pkey"
        )


def downgrade() -> None:
    # Back to 0005's shape. Its user column cannot be recovered: the rows (two days of
    # redelivery protection, nothing a user sees) are not kept.
    op.drop_table("processed_updates")
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index("ix_processed_updates_user_id", "processed_updates", ["user_id"])
    op.create_index("ix_processed_updates_created_at", "processed_updates", ["created_at"])

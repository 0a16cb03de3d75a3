"""Known users in L3: what the sweep streams instead of scanning Mem0's table, with L4's last counts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_users",
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("l4_memory_count", sa.Integer(), nullable=True),
        sa.Column("l4_newest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("l4_checked_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Every user L3 already knows; L4-only users arrive with the first reconciliation.
    op.execute(
        "INSERT INTO known_users (user_id) SELECT user_id FROM user_cache_state "
        "UNION SELECT user_id FROM user_dirty_marks ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.drop_table("known_users")

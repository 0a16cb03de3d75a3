"""Global favourites: a materialized view over every user's facts, refreshed concurrently.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE MATERIALIZED VIEW global_favorite_stats AS
        SELECT coalesce(topic, 'general') AS topic,
               lower(value) AS value_key,
               min(value) AS value,
               count(DISTINCT user_id) AS users
        FROM user_memory_facts
        WHERE category = 'favorite' AND value IS NOT NULL
        GROUP BY 1, 2
        """
    )
    # REFRESH ... CONCURRENTLY needs a unique index on plain columns.
    op.execute("CREATE UNIQUE INDEX ux_global_favorite_stats ON global_favorite_stats (topic, value_key)")
    op.create_table(
        "l3_view_refresh",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("l3_view_refresh")
    op.execute("DROP MATERIALIZED VIEW global_favorite_stats")

"""Log search inside a run: a GIN index on (flow_run_id, message trigrams), PostgreSQL only (SQLite scans the run's
lines). With it a search in a run of a million lines reads the lines holding the text's trigrams instead of every
line of the run; `btree_gin` lets the run id sit in the same GIN index.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_index(
        "trgm_ix_log__flow_run_id__message",
        "log",
        ["flow_run_id", "message"],
        postgresql_using="gin",
        postgresql_ops={"message": "gin_trgm_ops"},
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.drop_index("trgm_ix_log__flow_run_id__message", table_name="log")
    # The extensions stay: other schemas in the database may use them.

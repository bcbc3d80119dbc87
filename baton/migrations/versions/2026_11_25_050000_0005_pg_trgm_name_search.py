"""Trigram indexes for name search (PostgreSQL only; SQLite searches names by scan).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 03:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TRIGRAM_INDEXED_TABLES = ("flow", "flow_run", "task_run", "deployment", "block_type", "block_document", "work_queue")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table in TRIGRAM_INDEXED_TABLES:
        op.create_index(
            f"trgm_ix_{table}__name",
            table,
            ["name"],
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in TRIGRAM_INDEXED_TABLES:
        op.drop_index(f"trgm_ix_{table}__name", table_name=table)
    # The extension stays: other schemas in the database may use it.

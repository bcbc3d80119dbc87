"""Indexes a big install needs (millions of runs, tens of millions of lines).

* `flow_run (expected_start_time DESC NULLS LAST, id DESC)`: the order the Prefect client's `read_flow_runs` asks for
  by default (`prefect flow-run ls`); without it each call sorted every run. PostgreSQL only: SQLite's indexes
  take no NULLS LAST (and a SQLite install is not this big).
* `task_run (expected_start_time, state_type)`: the dashboard counts a window's task runs per state from the index
  alone, not from a million rows of the table (0015's `(expected_start_time, id)` serves the sorts, not the count).
* Log search inside a run: a GIN index on (flow_run_id, message trigrams), PostgreSQL only (SQLite scans the run's
lines). With it a search in a run of a million lines reads the lines holding the text's trigrams instead of every
line of the run; `btree_gin` lets the run id sit in the same GIN index. Built CONCURRENTLY (outside the migration's
transaction): on a log table of tens of millions of lines the build takes minutes, and log writes go on meanwhile.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        _upgrade_sqlite()
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_flow_run__expected_start_time_desc__id",
            "flow_run",
            [sa.text("expected_start_time DESC NULLS LAST"), sa.text("id DESC")],
            postgresql_concurrently=True,
        )
        op.create_index(
            "ix_task_run__expected_start_time__state_type",
            "task_run",
            ["expected_start_time", "state_type"],
            postgresql_concurrently=True,
        )
        op.create_index(
            "trgm_ix_log__flow_run_id__message",
            "log",
            ["flow_run_id", "message"],
            postgresql_using="gin",
            postgresql_ops={"message": "gin_trgm_ops"},
            postgresql_concurrently=True,
        )


def _upgrade_sqlite() -> None:
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.create_index("ix_task_run__expected_start_time__state_type", ["expected_start_time", "state_type"])


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        with op.batch_alter_table("task_run", schema=None) as batch_op:
            batch_op.drop_index("ix_task_run__expected_start_time__state_type")
        return
    with op.get_context().autocommit_block():
        op.drop_index("trgm_ix_log__flow_run_id__message", table_name="log", postgresql_concurrently=True)
        op.drop_index(
            "ix_task_run__expected_start_time__state_type", table_name="task_run", postgresql_concurrently=True
        )
        op.drop_index("ix_flow_run__expected_start_time_desc__id", table_name="flow_run", postgresql_concurrently=True)
    # The extensions stay: other schemas in the database may use them.

"""Task runs: index the sorts of the Task runs tab and of the API's newest-first task-run lists, which sorted every
task run for a page (a sequential scan and a top-N sort on PostgreSQL, a temporary B-tree on SQLite).

- `ix_task_run__start_key__id`: the tab's sort key, `coalesce(start_time, expected_start_time, created)`, and the id
  (its keyset pages, newest or oldest first).
- `ix_task_run__expected_start_time__id` and `ix_task_run__end_time__id`: `expected_start_time` or `end_time`
  descending with NULLs last, then the id descending (EXPECTED_START_TIME_DESC, which the Prefect client's
  `task-run ls` asks for, and END_TIME_DESC). They replace the single-column indexes on those columns, which lead
  with the same column and so served only the ranges these serve too. On PostgreSQL the index stores the descending,
  NULLs-last order (a plain index read backwards puts NULLs first); SQLite cannot declare it, and reads a plain
  index backwards with NULLs last. EXPECTED_START_TIME_ASC (NULLs last), which nothing in the client asks for,
  now sorts on PostgreSQL.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

START_KEY_INDEX = "ix_task_run__start_key__id"
# The Task runs tab's sort key (run_pages.TASK_RUN_START_KEY), written as the queries write it.
START_KEY = "coalesce(start_time, expected_start_time, created)"
# The column each newest-first index sorts by, and the single-column index it replaces.
NEWEST_FIRST = {"expected_start_time": "ix_task_run__expected_start_time", "end_time": "ix_task_run__end_time"}


def upgrade() -> None:
    op.create_index(START_KEY_INDEX, "task_run", [sa.text(START_KEY), "id"], unique=False)
    postgresql = op.get_context().dialect.name == "postgresql"
    for column, old in NEWEST_FIRST.items():
        columns: list[str | sa.TextClause] = (
            [sa.text(f"{column} DESC NULLS LAST"), sa.text("id DESC")] if postgresql else [column, "id"]
        )
        op.create_index(f"ix_task_run__{column}__id", "task_run", columns, unique=False)
        op.drop_index(old, table_name="task_run")


def downgrade() -> None:
    for column, old in NEWEST_FIRST.items():
        op.create_index(old, "task_run", [column], unique=False)
        op.drop_index(f"ix_task_run__{column}__id", table_name="task_run")
    op.drop_index(START_KEY_INDEX, table_name="task_run")

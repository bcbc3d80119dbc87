"""The indexes of migration 0015 serve the task-run sorts: the Task runs tab's start-time key (both directions) and
the API's newest-first sorts by expected start time and end time, read in index order on both databases, with no
sort step (PostgreSQL is kept off sequential scans: the plans are checked on an empty table)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.filters.core import task_run_order_by
from baton.server.models.views.run_pages import TASK_RUN_START_KEY
from baton.server.schemas.sorting import TaskRunSort

_task = t.task_run.c


async def plan_of(database: Database, query: sa.Select[Any]) -> str:
    async with database.read() as connection:
        compiled = query.compile(connection.sync_connection, compile_kwargs={"literal_binds": True})
        if database.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            return "\n".join(row[0] for row in (await connection.exec_driver_sql(f"EXPLAIN {compiled}")).all())
        rows = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return "\n".join(str(row[-1]) for row in rows)


def assert_read_in_order(plan: str, index: str) -> None:
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


@pytest.mark.parametrize("descending", [True, False], ids=["newest-first", "oldest-first"])
async def test_the_task_runs_tab_sort_is_read_from_its_index(database: Database, descending: bool) -> None:
    order = [TASK_RUN_START_KEY.desc(), _task.id.desc()] if descending else [TASK_RUN_START_KEY, _task.id]
    plan = await plan_of(database, sa.select(_task.id).order_by(*order).limit(51))
    assert_read_in_order(plan, "ix_task_run__start_key__id")


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        (TaskRunSort.EXPECTED_START_TIME_DESC, "ix_task_run__expected_start_time__id"),
        (TaskRunSort.END_TIME_DESC, "ix_task_run__end_time__id"),
    ],
)
async def test_the_apis_newest_first_sorts_are_read_from_their_index(
    database: Database, sort: TaskRunSort, index: str
) -> None:
    plan = await plan_of(database, sa.select(_task.id).order_by(*task_run_order_by(sort, database.dialect)).limit(200))
    assert_read_in_order(plan, index)


async def test_the_replaced_single_column_indexes_are_gone(database: Database) -> None:
    if database.dialect.name == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'task_run'"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'task_run'"
    async with database.read() as connection:
        names = {row[0] for row in (await connection.exec_driver_sql(query)).all()}
    assert {"ix_task_run__start_key__id", "ix_task_run__expected_start_time__id", "ix_task_run__end_time__id"} <= names
    assert not {"ix_task_run__expected_start_time", "ix_task_run__end_time"} & names

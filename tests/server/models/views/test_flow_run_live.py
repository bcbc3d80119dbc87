"""The live flow run page's task-run follower: task runs written since a cursor, sent once per change, and their
counts per state, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.views.flow_run_live import (
    FlowRunFollower,
    count_task_runs_by_state,
    read_task_runs_written_since,
)
from baton.server.models.views.flow_run_logs import read_flow_run_logs_written_since
from baton.server.models.views.run_follower import OVERLAP

BASE = dt.datetime(2026, 2, 1, 8, 0, tzinfo=dt.UTC)


def at(second: float) -> dt.datetime:
    return BASE + dt.timedelta(seconds=second)


def task_run(flow_run_id: uuid.UUID, number: int, state_type: str | None, written: float) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "created": at(written),
        "updated": at(written),
        "name": f"square-{number}",
        "flow_run_id": flow_run_id,
        "task_key": "square",
        "dynamic_key": str(number),
        "tags": ["live"],
        "state_id": uuid.uuid4() if state_type else None,
        "state_type": state_type,
        "state_name": state_type.title() if state_type else None,
        "run_count": 0,
        "total_run_time": 0.0,
    }


async def insert_run(database: Database, parent_task_run_id: uuid.UUID | None = None) -> uuid.UUID:
    flow_id, run = uuid.uuid4(), uuid.uuid4()
    async with database.write() as c:
        await c.execute(sa.insert(t.flow).values(id=flow_id, name=f"mapped-{flow_id}", tags=[]))
        await c.execute(
            sa.insert(t.flow_run).values(
                id=run, flow_id=flow_id, name="r", tags=[], state_id=uuid.uuid4(), state_type="RUNNING",
                state_name="Running", run_count=1, total_run_time=0.0, parent_task_run_id=parent_task_run_id,
            )
        )  # fmt: skip
    return run


@pytest.fixture
async def run_id(database: Database) -> uuid.UUID:
    run = await insert_run(database)
    other = await insert_run(database)
    async with database.write() as c:
        await c.execute(
            sa.insert(t.task_run),
            [task_run(run, number, "COMPLETED", number) for number in range(10)] + [task_run(other, 0, "RUNNING", 9.5)],
        )
    return run


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [row["name"] for row in rows]


async def test_written_since_pages_by_updated_then_id(database: Database, run_id: uuid.UUID) -> None:
    async with database.read() as c:
        first = await read_task_runs_written_since(c, run_id, at(5), None, 3)
        assert names(first) == ["square-5", "square-6", "square-7"]
        rest = await read_task_runs_written_since(c, run_id, at(5), (first[-1]["updated"], first[-1]["id"]), 10)
        assert names(rest) == ["square-8", "square-9"]  # only this run's task runs
        assert rest[0]["tags"] == ["live"] and rest[0]["state_type"] == "COMPLETED"
        assert await count_task_runs_by_state(c, run_id) == {"COMPLETED": 10}
        assert await count_task_runs_by_state(c, uuid.uuid4()) == {}


async def test_follower_sends_each_change_once_with_the_counts(database: Database, run_id: uuid.UUID) -> None:
    follower = FlowRunFollower(run_id, since=at(9), follow_logs=False)
    async with database.read() as c:
        first = await follower.poll(c)
        again = await follower.poll(c)
    # The task runs written within the overlap window before `since` are sent (the page replaces their rows).
    assert names(first.task_runs) == [f"square-{n}" for n in range(9 - int(OVERLAP.total_seconds()), 10)]
    assert first.task_run_counts == {"COMPLETED": 10}
    assert again.task_runs == [] and again.task_run_counts is None

    assert first.subflow_count == 0
    parent = task_run(run_id, 10, None, 11)
    async with database.write() as c:
        await c.execute(sa.insert(t.task_run), [parent, task_run(run_id, 11, "PENDING", 12)])
        # A task run changed again: sent again, with its new state.
        await c.execute(
            sa.update(t.task_run)
            .where(t.task_run.c.name == "square-9", t.task_run.c.flow_run_id == run_id)
            .values(state_type="FAILED", state_name="Failed", updated=at(13))
        )
    await insert_run(database, parent_task_run_id=parent["id"])  # a subflow run, started from the new task run
    async with database.read() as c:
        second = await follower.poll(c)
        third = await follower.poll(c)
    assert names(second.task_runs) == ["square-10", "square-11", "square-9"]
    assert second.task_runs[-1]["state_type"] == "FAILED"
    assert second.task_run_counts == {"COMPLETED": 9, "FAILED": 1, "PENDING": 1, "": 1}
    assert second.subflow_count == 1
    assert third.task_runs == [] and third.subflow_count is None


async def plan_of(database: Database, read: Any) -> str:
    """The query plan of the one statement `read(connection)` runs (captured as it runs, then explained)."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    sa.event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with database.read() as c:
            await read(c)
    finally:
        sa.event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
    [(statement, parameters)] = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    async with database.read() as c:
        if database.dialect.name == "postgresql":
            rows = await c.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            return "\n".join(row[0] for row in rows)
        rows = await c.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return "\n".join(str(row[-1]) for row in rows)


async def test_each_look_reads_the_recent_writes_not_the_whole_run(database: Database, run_id: uuid.UUID) -> None:
    """A run with many task runs and log lines: the look reads them by the `updated` (`created`) index."""
    old = [task_run(run_id, number, "COMPLETED", -3600) for number in range(100, 2100)]
    lines = [
        {"id": uuid.uuid4(), "created": at(-3600), "name": "x", "level": 20, "message": "m", "timestamp": at(-3600),
         "flow_run_id": run_id}
        for _ in range(2000)
    ]  # fmt: skip
    async with database.write() as c:
        await c.execute(sa.insert(t.task_run), old)
        await c.execute(sa.insert(t.log), lines)
    if database.dialect.name == "postgresql":
        async with database.write() as c:
            await c.exec_driver_sql("ANALYZE task_run")
            await c.exec_driver_sql("ANALYZE log")
    task_runs_plan = await plan_of(database, lambda c: read_task_runs_written_since(c, run_id, at(5), None, 500))
    assert "ix_task_run__updated" in task_runs_plan, task_runs_plan
    logs_plan = await plan_of(
        database, lambda c: read_flow_run_logs_written_since(c, run_id, limit=500, since=at(5), min_level=30)
    )
    assert "ix_log__created" in logs_plan, logs_plan

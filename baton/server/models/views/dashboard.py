"""Dashboard queries: flow runs counted per time bucket and state type, task runs per state type, and the latest
failed and late runs, each bounded by a time window on the runs' expected start time (an indexed column)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.models.runs import history
from baton.server.schemas.requests import MAX_HISTORY_BUCKETS
from baton.states import LATE

# The chart draws one bar per bucket; more would be unreadable and slow to render (and `/history` allows no more).
MAX_BUCKETS = MAX_HISTORY_BUCKETS
FAILURE_STATE_TYPES = ("FAILED", "CRASHED")


def _in_window(table: sa.Table, start: dt.datetime, end: dt.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(table.c.expected_start_time >= start, table.c.expected_start_time < end)


def _flow_run_tag(connection: AsyncConnection, tag: str | None) -> sa.ColumnElement[bool]:
    if not tag:
        return sa.true()
    return dialect_of(connection).json_contains(t.flow_run.c.tags, [tag])


async def count_flow_runs_by_bucket(
    connection: AsyncConnection, start: dt.datetime, bucket_seconds: int, buckets: int, *, tag: str | None = None
) -> list[dict[str, int]]:
    """For each of `buckets` consecutive buckets of `bucket_seconds` from `start`, the number of flow runs expected
    to start in it, per state type (`{"COMPLETED": 3, ...}`; types without runs are absent). Runs without a state
    are not counted. Raises ValidationFailed for a bucket under a second or more than MAX_BUCKETS buckets.
    Counted by `/history`'s query (`history.count_runs_by_bucket`), per state type only."""
    if bucket_seconds < 1 or not 0 < buckets <= MAX_BUCKETS:
        raise ValidationFailed(f"A chart has 1 to {MAX_BUCKETS} buckets of at least a second.")
    counted = await history.count_runs_by_bucket(
        connection,
        "flow_run",
        start.astimezone(dt.UTC),
        bucket_seconds,
        buckets,
        _flow_run_tag(connection, tag),
        detailed=False,
    )
    return [{state["state_type"]: state["count_runs"] for state in states} for states in counted]


async def count_task_runs_by_state(
    connection: AsyncConnection, start: dt.datetime, end: dt.datetime, *, tag: str | None = None
) -> dict[str, int]:
    """Task runs expected to start in [start, end), per state type; with `tag`, only those of flow runs so tagged."""
    task_run = t.task_run
    query = (
        sa.select(task_run.c.state_type, sa.func.count())
        .where(_in_window(task_run, start, end), task_run.c.state_type.is_not(None))
        .group_by(task_run.c.state_type)
    )
    if tag:
        query = query.join(t.flow_run, t.flow_run.c.id == task_run.c.flow_run_id).where(_flow_run_tag(connection, tag))
    return {state_type: int(count) for state_type, count in (await connection.execute(query)).all()}


_RECENT_RUN_COLUMNS = (
    t.flow_run.c.id,
    t.flow_run.c.name,
    t.flow_run.c.flow_id,
    t.flow.c.name.label("flow_name"),
    t.flow_run.c.state_type,
    t.flow_run.c.state_name,
    t.flow_run.c.state_timestamp,
    t.flow_run.c.expected_start_time,
    t.flow_run.c.start_time,
    t.flow_run.c.end_time,
    t.flow_run.c.total_run_time,
    t.flow_run.c.tags,
)


async def _recent_flow_runs(
    connection: AsyncConnection,
    start: dt.datetime,
    end: dt.datetime,
    tag: str | None,
    limit: int,
    conditions: list[sa.ColumnElement[bool]],
    order_by: list[sa.ColumnElement[Any]],
) -> list[dict[str, Any]]:
    """Flow runs expected to start in [start, end) that meet `conditions`, in `order_by`, with their flow's name."""
    run = t.flow_run
    query = (
        sa.select(*_RECENT_RUN_COLUMNS)
        .join(t.flow, t.flow.c.id == run.c.flow_id)
        .where(*conditions, _in_window(run, start, end), _flow_run_tag(connection, tag))
        .order_by(*order_by)
        .limit(limit)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_failed_flow_runs(
    connection: AsyncConnection, start: dt.datetime, end: dt.datetime, *, tag: str | None = None, limit: int = 5
) -> list[dict[str, Any]]:
    """Failed and crashed flow runs expected to start in [start, end), the latest to fail first, with their flow's
    name."""
    run = t.flow_run.c
    return await _recent_flow_runs(
        connection,
        start,
        end,
        tag,
        limit,
        [run.state_type.in_(FAILURE_STATE_TYPES)],
        [run.state_timestamp.desc().nulls_last(), run.id.desc()],
    )


async def read_late_flow_runs(
    connection: AsyncConnection, start: dt.datetime, end: dt.datetime, *, tag: str | None = None, limit: int = 5
) -> list[dict[str, Any]]:
    """Flow runs in the state named Late expected to start in [start, end), the most recently expected first."""
    run = t.flow_run.c
    return await _recent_flow_runs(
        connection,
        start,
        end,
        tag,
        limit,
        [run.state_type == "SCHEDULED", run.state_name == LATE],
        [run.expected_start_time.desc(), run.id.desc()],
    )


async def read_latest_flow_runs(
    connection: AsyncConnection, start: dt.datetime, end: dt.datetime, *, tag: str | None = None, limit: int = 5
) -> list[dict[str, Any]]:
    """Flow runs expected to start in [start, end), the most recently expected first."""
    run = t.flow_run.c
    return await _recent_flow_runs(
        connection, start, end, tag, limit, [], [run.expected_start_time.desc(), run.id.desc()]
    )

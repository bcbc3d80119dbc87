"""Run history: runs counted per time bucket and state, as Prefect's `/history` returns; the dashboard's chart counts
its buckets with the same query."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect, dialect_of
from baton.server.database.types import utcnow
from baton.server.models.filters.core import estimated_run_time
from baton.server.schemas.requests import MAX_HISTORY_BUCKETS, MIN_HISTORY_INTERVAL_SECONDS, bucket_count
from baton.states import TERMINAL_STATE_VALUES

RUN_TABLES = {"flow_run": t.flow_run, "task_run": t.task_run}
# What a bucket adds up per state.
MEASURES = ("count_runs", "sum_estimated_run_time", "sum_estimated_lateness")


async def run_history(
    connection: AsyncConnection,
    kind: Literal["flow_run", "task_run"],
    start: dt.datetime,
    end: dt.datetime,
    interval_seconds: float,
    condition: sa.ColumnElement[bool],
) -> list[dict[str, Any]]:
    """One entry per bucket of `interval_seconds` from `start` until `end` is covered (the last bucket may reach
    past `end`): `{interval_start, interval_end, states: [{state_type, state_name, count_runs,
    sum_estimated_run_time, sum_estimated_lateness}]}`, times in seconds. A run belongs to the bucket holding its
    expected start time; runs without a state are left out. Raises ValidationFailed for an interval under a second
    or more than 500 buckets."""
    if interval_seconds < MIN_HISTORY_INTERVAL_SECONDS:
        raise ValidationFailed("History interval must not be less than 1 second.")
    start = _utc(start)
    count = bucket_count(start, _utc(end), interval_seconds)
    if count > MAX_HISTORY_BUCKETS:
        raise ValidationFailed(f"The history range holds {count} intervals; at most {MAX_HISTORY_BUCKETS} are allowed.")
    if count == 0:
        return []
    interval = dt.timedelta(seconds=interval_seconds)
    buckets = await count_runs_by_bucket(connection, kind, start, interval_seconds, count, condition)
    return [
        {"interval_start": start + i * interval, "interval_end": start + (i + 1) * interval, "states": states}
        for i, states in enumerate(buckets)
    ]


async def count_runs_by_bucket(
    connection: AsyncConnection,
    kind: Literal["flow_run", "task_run"],
    start: dt.datetime,
    interval_seconds: float,
    buckets: int,
    condition: sa.ColumnElement[bool],
    *,
    detailed: bool = True,
) -> list[list[dict[str, Any]]]:
    """For each of `buckets` consecutive buckets of `interval_seconds` from `start`, the runs of `kind` meeting
    `condition` whose expected start time falls in it, per state: `[{state_type, state_name, count_runs,
    sum_estimated_run_time, sum_estimated_lateness}]` ordered by type and name, times in seconds. With `detailed`
    false, only `[{state_type, count_runs}]` per state type: the index on (expected_start_time, state_type) answers
    that without reading the runs. Runs without a state are left out. The one bucketed count: `/history` and the
    dashboard's chart both shape theirs from it."""
    start = _utc(start)
    table = RUN_TABLES[kind]
    dialect = dialect_of(connection)
    now = utcnow()
    offset = dialect.seconds_since(table.c.expected_start_time, start)
    keys = [table.c.state_type, table.c.state_name] if detailed else [table.c.state_type]
    estimates = (
        [
            _positive(estimated_run_time(table, dialect, now)).label("run_time"),
            _positive(_lateness(table, dialect, now)).label("lateness"),
        ]
        if detailed
        else []
    )
    runs = (
        sa.select(
            dialect.truncate_to_integer(offset / sa.literal(interval_seconds, sa.Float)).label("bucket_index"),
            *keys,
            *estimates,
        )
        .where(
            condition,
            table.c.state_type.is_not(None),
            table.c.expected_start_time >= start,
            table.c.expected_start_time < start + buckets * dt.timedelta(seconds=interval_seconds),
        )
        .subquery("runs")
    )
    grouping = [runs.c.bucket_index, *(runs.c[key.name] for key in keys)]
    sums = (
        [
            sa.func.sum(runs.c.run_time).label("sum_estimated_run_time"),
            sa.func.sum(runs.c.lateness).label("sum_estimated_lateness"),
        ]
        if detailed
        else []
    )
    # Grouped in an outer query: PostgreSQL would not match the bucket expression's bound parameters otherwise.
    counts = sa.select(*grouping, sa.func.count().label("count_runs"), *sums).group_by(*grouping)

    states: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (await connection.execute(counts)).mappings():
        # Float rounding at a bucket's edge must not push a run out of the range it was selected for.
        index = min(max(int(row["bucket_index"]), 0), buckets - 1)
        entry: dict[str, Any] = {key.name: row[key.name] for key in keys}
        entry["count_runs"] = int(row["count_runs"])
        if detailed:
            entry["sum_estimated_run_time"] = float(row["sum_estimated_run_time"] or 0.0)
            entry["sum_estimated_lateness"] = float(row["sum_estimated_lateness"] or 0.0)
        states[index].append(entry)
    return [_merged(states[i], [key.name for key in keys]) for i in range(buckets)]


def _lateness(table: sa.Table, dialect: DatabaseDialect, now: dt.datetime) -> sa.ColumnElement[float]:
    """Seconds a run started after it was expected to; for one not started yet and not finished, seconds so far."""
    expected = dialect.epoch_seconds(table.c.expected_start_time)
    return sa.case(
        (table.c.start_time > table.c.expected_start_time, dialect.epoch_seconds(table.c.start_time) - expected),
        (
            sa.and_(
                table.c.start_time.is_(None),
                table.c.state_type.not_in(TERMINAL_STATE_VALUES),
                table.c.expected_start_time < now,
            ),
            -dialect.seconds_since(table.c.expected_start_time, now),
        ),
        else_=sa.literal(0.0, sa.Float),
    )


def _positive(value: sa.ColumnElement[float]) -> sa.ColumnElement[float]:
    return sa.case((value > 0, value), else_=sa.literal(0.0, sa.Float))


def _merged(entries: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """Entries of one bucket, those clamped into it merged with their state's own (the same `keys`), in a stable
    order."""
    merged: dict[tuple[str, ...], dict[str, Any]] = {}
    for entry in entries:
        key = tuple(entry[name] for name in keys)
        if key in merged:
            for field in MEASURES:
                if field in entry:
                    merged[key][field] += entry[field]
        else:
            merged[key] = entry
    return [merged[key] for key in sorted(merged)]


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

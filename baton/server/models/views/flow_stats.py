"""A flow page's figures over a time window: its runs per bucket and state type, and per deployment the run count,
the success rate and the percentiles of total run time.

The chart counts the flow's runs expected to start in each bucket, as the dashboard and `/history` do (so runs
waiting to start, Late ones included, are in it). The per-deployment figures are about runs that ran: those that
started in the window, read through the index on (flow_id, start_time), so their cost grows with the flow's runs in
the window, not with every run's. Percentiles are nearest-rank (the smallest duration with at least p% of the
durations at or below it), computed in SQL with a window function the same way on SQLite and PostgreSQL (SQLite has
no percentile_cont, and interpolated percentiles on one database and ranked ones on the other would disagree), over
the flow's latest DURATION_SAMPLE runs started in the window, so that a flow with a huge number of runs costs a
bounded sort."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.models.runs import history
from baton.server.models.views.dashboard import MAX_BUCKETS
from baton.states import TERMINAL_STATE_VALUES

# Percentiles of total run time shown per deployment, in percent (whole numbers keep the rank in integer SQL).
PERCENTILES = (50, 90, 99)
# Percentiles are taken over at most this many of the flow's runs (the latest started), which bounds their sort.
DURATION_SAMPLE = 5_000
# A flow page lists at most this many deployments; a flow with more is rare and its other ones have their own page.
MAX_DEPLOYMENTS = 100


@dataclass
class DeploymentStats:
    """One deployment's runs in the window (deployment_id None: the flow's runs made without a deployment)."""

    deployment_id: uuid.UUID | None
    name: str | None
    runs: int = 0
    terminal: int = 0
    completed: int = 0
    # Percent -> seconds, over its runs in a terminal state (among the flow's latest DURATION_SAMPLE); empty if none.
    durations: dict[int, float] = field(default_factory=dict)

    @property
    def success_rate(self) -> float | None:
        """Completed runs among terminal runs, from 0 to 1; None with no terminal run."""
        return self.completed / self.terminal if self.terminal else None


def _flow_runs_in(flow_id: uuid.UUID, start: dt.datetime, end: dt.datetime) -> list[sa.ColumnElement[bool]]:
    run = t.flow_run.c
    return [run.flow_id == flow_id, run.start_time >= start, run.start_time < end]


async def count_flow_runs_by_bucket(
    connection: AsyncConnection, flow_id: uuid.UUID, start: dt.datetime, bucket_seconds: int, buckets: int
) -> list[dict[str, int]]:
    """For each of `buckets` buckets of `bucket_seconds` from `start`, the flow's runs expected to start in it per
    state type (`{"COMPLETED": 3}`; absent types have none). Raises ValidationFailed for a bucket under a second or
    more than MAX_BUCKETS buckets. The same count as the dashboard's chart, for one flow."""
    if bucket_seconds < 1 or not 0 < buckets <= MAX_BUCKETS:
        raise ValidationFailed(f"A chart has 1 to {MAX_BUCKETS} buckets of at least a second.")
    counted = await history.count_runs_by_bucket(
        connection,
        "flow_run",
        start.astimezone(dt.UTC),
        bucket_seconds,
        buckets,
        t.flow_run.c.flow_id == flow_id,
        detailed=False,
    )
    return [{state["state_type"]: state["count_runs"] for state in states} for states in counted]


async def read_deployment_stats(
    connection: AsyncConnection, flow_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> list[DeploymentStats]:
    """Each deployment of the flow (at most MAX_DEPLOYMENTS, by name) with its runs that started in [start, end),
    then, if the flow has any in the window, its runs made without a deployment (or whose deployment
    was deleted). Two queries: counts, then percentiles."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    deployment = t.deployment.c
    named = await connection.execute(
        sa.select(deployment.id, deployment.name)
        .where(deployment.flow_id == flow_id)
        .order_by(deployment.name, deployment.id)
        .limit(MAX_DEPLOYMENTS)
    )
    stats = {row.id: DeploymentStats(row.id, row.name) for row in named}
    for row in await _count_runs(connection, flow_id, start, end):
        if row.deployment_id is None:
            stats[None] = DeploymentStats(None, None)
        entry = stats.get(row.deployment_id)
        if entry is not None:
            entry.runs, entry.terminal, entry.completed = int(row.runs), int(row.terminal or 0), int(row.completed or 0)
    for key, percent, seconds in await _percentiles(connection, flow_id, start, end):
        if key in stats:
            stats[key].durations[percent] = seconds
    return list(stats.values())


async def _count_runs(
    connection: AsyncConnection, flow_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> list[sa.Row]:
    run = t.flow_run.c
    terminal = sa.case((run.state_type.in_(TERMINAL_STATE_VALUES), 1), else_=0)
    completed = sa.case((run.state_type == "COMPLETED", 1), else_=0)
    query = (
        sa.select(
            run.deployment_id,
            sa.func.count().label("runs"),
            sa.func.sum(terminal).label("terminal"),
            sa.func.sum(completed).label("completed"),
        )
        .where(*_flow_runs_in(flow_id, start, end))
        .group_by(run.deployment_id)
    )
    return list((await connection.execute(query)).all())


async def _percentiles(
    connection: AsyncConnection, flow_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> list[tuple[uuid.UUID | None, int, float]]:
    """(deployment id, percent, seconds) for each percentile of each deployment's finished runs among the flow's
    latest DURATION_SAMPLE started in the window: the duration at
    rank ceil(p * n / 100) in ascending order, the rank in integer arithmetic so both databases agree."""
    run = t.flow_run.c
    sample = (
        sa.select(run.id, run.deployment_id, run.total_run_time, run.state_type)
        .where(*_flow_runs_in(flow_id, start, end))
        .order_by(run.start_time.desc())
        .limit(DURATION_SAMPLE)
        .subquery()
    )
    key = sample.c.deployment_id
    ranked = (
        sa.select(
            key.label("deployment_id"),
            sample.c.total_run_time.label("seconds"),
            sa.func.row_number().over(partition_by=key, order_by=(sample.c.total_run_time, sample.c.id)).label("rank"),
            sa.func.count().over(partition_by=key).label("total"),
        )
        .where(sample.c.state_type.in_(TERMINAL_STATE_VALUES))
        .subquery()
    )
    wanted = [ranked.c.rank == _rank(ranked.c.total, percent) for percent in PERCENTILES]
    query = sa.select(ranked.c.deployment_id, ranked.c.rank, ranked.c.total, ranked.c.seconds).where(sa.or_(*wanted))
    rows: list[tuple[uuid.UUID | None, int, float]] = []
    for row in await connection.execute(query):
        for percent in PERCENTILES:
            if row.rank == _rank(int(row.total), percent):
                rows.append((row.deployment_id, percent, float(row.seconds)))
    return rows


def _rank(total: Any, percent: int) -> Any:
    """The nearest rank of `percent` among `total` values, ceil(total * percent / 100), for SQL or Python ints."""
    return (total * percent + 99) // 100

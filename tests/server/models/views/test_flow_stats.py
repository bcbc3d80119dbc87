"""A flow page's figures on SQLite and PostgreSQL: its chart counts only its runs, and per deployment the run
count, success rate and nearest-rank percentiles of total run time over its runs that started in the window."""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.views import flow_stats
from baton.server.models.views.flow_stats import count_flow_runs_by_bucket, read_deployment_stats

BASE = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
END = BASE + 60 * MINUTE


async def insert_run(
    connection: Any,
    flow_id: uuid.UUID,
    state_type: str,
    expected: dt.datetime,
    *,
    deployment_id: uuid.UUID | None = None,
    seconds: float | None = None,
) -> None:
    """A run; with `seconds`, one that started and ran that long."""
    started = {"start_time": expected, "total_run_time": seconds} if seconds is not None else {}
    await connection.execute(
        sa.insert(t.flow_run).values(
            id=uuid.uuid4(), name=f"run-{uuid.uuid4().hex[:6]}", flow_id=flow_id, deployment_id=deployment_id,
            tags=[], state_id=uuid.uuid4(), state_type=state_type, state_name=state_type.title(),
            expected_start_time=expected, **started,
        )
    )  # fmt: skip


async def insert_deployment(connection: Any, flow_id: uuid.UUID, name: str) -> uuid.UUID:
    deployment_id = uuid.uuid4()
    await connection.execute(sa.insert(t.deployment).values(id=deployment_id, name=name, flow_id=flow_id))
    return deployment_id


@pytest.fixture
async def flows(database: Database) -> dict[str, uuid.UUID]:
    """Flow "measured" with deployments "nightly" (13 runs started in the window, 12 finished, one waiting), "idle"
    (none) and runs without a deployment; flow "other" with runs in the same window that must never be counted."""
    ids = {"measured": uuid.uuid4(), "other": uuid.uuid4()}
    async with database.write() as c:
        for name, flow_id in ids.items():
            await c.execute(sa.insert(t.flow).values(id=flow_id, name=name, tags=[]))
        nightly = ids["nightly"] = await insert_deployment(c, ids["measured"], "nightly")
        ids["idle"] = await insert_deployment(c, ids["measured"], "idle")
        other_deployment = await insert_deployment(c, ids["other"], "nightly")
        for second in range(1, 11):
            await insert_run(
                c, ids["measured"], "COMPLETED", BASE + second * MINUTE, deployment_id=nightly, seconds=second
            )
        await insert_run(c, ids["measured"], "FAILED", BASE + 2 * MINUTE, deployment_id=nightly, seconds=100)
        await insert_run(c, ids["measured"], "CRASHED", BASE + 50 * MINUTE, deployment_id=nightly, seconds=200)
        await insert_run(c, ids["measured"], "RUNNING", BASE + 51 * MINUTE, deployment_id=nightly, seconds=5000)
        await insert_run(c, ids["measured"], "SCHEDULED", BASE + 59 * MINUTE, deployment_id=nightly)
        # Outside the window: before it, and exactly at its end.
        await insert_run(c, ids["measured"], "FAILED", BASE - MINUTE, deployment_id=nightly, seconds=1)
        await insert_run(c, ids["measured"], "FAILED", END, deployment_id=nightly, seconds=1)
        # Without a deployment: cancelled before it started (no duration) and one completed.
        await insert_run(c, ids["measured"], "CANCELLED", BASE + 3 * MINUTE)
        await insert_run(c, ids["measured"], "COMPLETED", BASE + 4 * MINUTE, seconds=7.5)
        for minute in range(5):
            await insert_run(
                c, ids["other"], "FAILED", BASE + minute * MINUTE, deployment_id=other_deployment, seconds=9
            )
    return ids


async def test_the_chart_counts_the_flows_runs_only(database: Database, flows: dict[str, uuid.UUID]) -> None:
    async with database.read() as connection:
        buckets = await count_flow_runs_by_bucket(connection, flows["measured"], BASE, 30 * 60, 2)
        other = await count_flow_runs_by_bucket(connection, flows["other"], BASE, 30 * 60, 2)
    assert buckets == [{"COMPLETED": 11, "FAILED": 1, "CANCELLED": 1}, {"CRASHED": 1, "RUNNING": 1, "SCHEDULED": 1}]
    assert other == [{"FAILED": 5}, {}]


async def test_counts_success_rate_and_percentiles_per_deployment(
    database: Database, flows: dict[str, uuid.UUID]
) -> None:
    async with database.read() as connection:
        stats = await read_deployment_stats(connection, flows["measured"], BASE, END)
    by_name = {entry.name: entry for entry in stats}
    assert [entry.name for entry in stats] == ["idle", "nightly", None]
    nightly = by_name["nightly"]
    assert (nightly.deployment_id, nightly.runs, nightly.terminal, nightly.completed) == (flows["nightly"], 13, 12, 10)
    assert nightly.success_rate == pytest.approx(10 / 12)
    # Twelve finished durations 1..10, 100, 200: ranks ceil(6) = 6, ceil(10.8) = 11, ceil(11.88) = 12.
    assert nightly.durations == {50: 6.0, 90: 100.0, 99: 200.0}
    idle = by_name["idle"]
    assert (idle.runs, idle.terminal, idle.success_rate, idle.durations) == (0, 0, None, {})
    loose = by_name[None]
    # The run cancelled before it started is not among the runs that ran.
    assert (loose.deployment_id, loose.runs, loose.terminal, loose.completed) == (None, 1, 1, 1)
    assert loose.durations == {50: 7.5, 90: 7.5, 99: 7.5}


async def test_percentiles_are_nearest_rank_on_both_databases(database: Database) -> None:
    flow_id = uuid.uuid4()
    durations = [round(random.Random(index).uniform(0, 1000), 3) for index in range(37)]
    async with database.write() as c:
        await c.execute(sa.insert(t.flow).values(id=flow_id, name="ranked", tags=[]))
        deployment_id = await insert_deployment(c, flow_id, "ranked")
        for index, seconds in enumerate(durations):
            await insert_run(
                c, flow_id, "COMPLETED", BASE + index * MINUTE, deployment_id=deployment_id, seconds=seconds
            )
    async with database.read() as connection:
        (stats,) = await read_deployment_stats(connection, flow_id, BASE, END)
    ordered = sorted(durations)
    expected = {percent: ordered[math.ceil(len(ordered) * percent / 100) - 1] for percent in (50, 90, 99)}
    assert stats.durations == pytest.approx(expected)
    assert stats.durations[50] == ordered[18]


async def test_percentiles_take_the_latest_runs_when_there_are_many(
    database: Database, flows: dict[str, uuid.UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flow_stats, "DURATION_SAMPLE", 3)
    async with database.read() as connection:
        stats = await read_deployment_stats(connection, flows["measured"], BASE, END)
    by_name = {entry.name: entry for entry in stats}
    # The latest three started: Running (not finished) at 10:51, Crashed (200 s) at 10:50, Completed (10 s) at 10:10.
    assert by_name["nightly"].durations == {50: 10.0, 90: 200.0, 99: 200.0}
    assert by_name["nightly"].runs == 13
    assert by_name[None].durations == {}


async def test_a_window_without_runs(database: Database, flows: dict[str, uuid.UUID]) -> None:
    later = END + dt.timedelta(days=1)
    async with database.read() as connection:
        stats = await read_deployment_stats(connection, flows["measured"], later, later + MINUTE)
        chart = await count_flow_runs_by_bucket(connection, flows["measured"], later, 3600, 24)
    assert [(entry.name, entry.runs, entry.durations) for entry in stats] == [("idle", 0, {}), ("nightly", 0, {})]
    assert chart == [{}] * 24


async def test_too_many_buckets_is_refused(database: Database) -> None:
    async with database.read() as connection:
        with pytest.raises(ValidationFailed):
            await count_flow_runs_by_bucket(connection, uuid.uuid4(), BASE, 1, 501)

"""The scheduler: it fills each active deployment's horizon by Prefect's rules, and two schedulers running at once
never insert the same run twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.deployments.deployments import create_deployment
from baton.server.models.deployments.scheduling import SchedulerLimits, idempotency_key, schedule_deployments
from baton.server.models.runs.flows import create_flow
from baton.server.schemas.actions import FlowCreate
from baton.server.schemas.deployments import DeploymentCreate

NOW = dt.datetime(2026, 6, 1, 12, 0, 30, tzinfo=dt.UTC)
EVERY_MINUTE = {"interval": 60, "anchor_date": "2026-01-01T00:00:00Z"}


async def _deployment(database: Database, name: str = "d", **fields: Any) -> uuid.UUID:
    async with database.write() as connection:
        flow, _ = await create_flow(connection, FlowCreate(name="flow"))
        body = DeploymentCreate.model_validate({"flow_id": flow["id"], "name": name, **fields})
        deployment_id, _ = await create_deployment(connection, body)
    return deployment_id


async def _runs(database: Database, deployment_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    query = sa.select(t.flow_run).order_by(t.flow_run.c.next_scheduled_start_time)
    if deployment_id is not None:
        query = query.where(t.flow_run.c.deployment_id == deployment_id)
    async with database.read() as connection:
        return [dict(row) for row in (await connection.execute(query)).mappings()]


async def test_fills_the_horizon_with_scheduled_runs(database: Database) -> None:
    deployment_id = await _deployment(
        database,
        schedules=[{"schedule": EVERY_MINUTE, "parameters": {"y": 2}}],
        parameters={"x": 1, "y": 1},
        tags=["nightly"],
        work_queue_name="reports",
    )
    assert await schedule_deployments(database, SchedulerLimits(), now=NOW) == 61
    runs = await _runs(database)
    times = [run["next_scheduled_start_time"] for run in runs]
    # From the first minute after now until the first run at least an hour ahead: 61 runs, a minute apart.
    assert times[0] == dt.datetime(2026, 6, 1, 12, 1, tzinfo=dt.UTC)
    assert times[-1] == dt.datetime(2026, 6, 1, 13, 1, tzinfo=dt.UTC)
    assert all(b - a == dt.timedelta(minutes=1) for a, b in zip(times, times[1:], strict=False))
    run = runs[0]
    assert (run["state_type"], run["state_name"], run["auto_scheduled"]) == ("SCHEDULED", "Scheduled", True)
    assert run["parameters"] == {"x": 1, "y": 2}
    assert run["tags"] == ["nightly", "auto-scheduled"]
    assert run["work_queue_id"] is not None and run["work_queue_name"] == "reports"
    assert run["expected_start_time"] == run["next_scheduled_start_time"]
    async with database.read() as connection:
        schedule_id = await connection.scalar(sa.select(t.deployment_schedule.c.id))
        state = (
            (await connection.execute(sa.select(t.flow_run_state).where(t.flow_run_state.c.id == run["state_id"])))
            .mappings()
            .one()
        )
    assert run["idempotency_key"] == idempotency_key(deployment_id, schedule_id, times[0])
    assert state["type"] == "SCHEDULED" and state["state_details"]["scheduled_time"].startswith("2026-06-01T12:01:00")

    # A pass soon after adds only what the horizon gained; one right away adds nothing.
    assert await schedule_deployments(database, SchedulerLimits(), now=NOW) == 0
    later = NOW + dt.timedelta(minutes=5)
    assert await schedule_deployments(database, SchedulerLimits(), now=later) == 5


async def test_minimum_runs_maximum_runs_and_inactive_deployments(database: Database) -> None:
    daily = {"interval": 86400, "anchor_date": "2026-01-01T06:00:00Z"}
    three = await _deployment(database, "daily", schedules=[{"schedule": daily}])
    capped = await _deployment(database, "capped", schedules=[{"schedule": EVERY_MINUTE, "max_scheduled_runs": 5}])
    paused = await _deployment(database, "paused", paused=True, schedules=[{"schedule": EVERY_MINUTE}])
    inactive = await _deployment(database, "inactive", schedules=[{"schedule": EVERY_MINUTE, "active": False}])
    short = SchedulerLimits(max_runs=10, max_time=dt.timedelta(days=2))
    await schedule_deployments(database, short, now=NOW)
    assert len(await _runs(database, three)) == 2  # min_runs 3, but only two days fit in the two-day horizon
    await schedule_deployments(database, SchedulerLimits(), now=NOW)
    assert len(await _runs(database, three)) == 3
    assert len(await _runs(database, capped)) == 5
    assert await _runs(database, paused) == []
    assert await _runs(database, inactive) == []


async def test_two_schedulers_at_once_never_duplicate_a_run(database: Database, database_url: str) -> None:
    ids = [await _deployment(database, f"d{i}", schedules=[{"schedule": EVERY_MINUTE}]) for i in range(5)]
    other = Database(database_url)
    await other.open()
    try:
        counts = await asyncio.gather(
            *(schedule_deployments(db, SchedulerLimits(), now=NOW) for db in (database, other, database, other))
        )
    finally:
        await other.dispose()
    runs = await _runs(database)
    keys = [(run["deployment_id"], run["next_scheduled_start_time"]) for run in runs]
    assert len(keys) == len(set(keys)) == 5 * 61
    assert sum(counts) == 5 * 61
    assert {run["deployment_id"] for run in runs} == set(ids)
    async with database.read() as connection:
        states = await connection.scalar(sa.select(sa.func.count()).select_from(t.flow_run_state))
    assert states == 5 * 61

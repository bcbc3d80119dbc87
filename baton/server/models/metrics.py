"""The cluster-wide figures `/metrics` reports from the database: runs by state, late runs, workers and their last
heartbeat, concurrency slots in use, and notification deliveries and automation action runs by status.

Each is one grouped query over an indexed column; the API reads them at most once per
`server_metrics_cache_seconds` (baton.server.metrics.cluster)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.states import LATE, StateType


class WorkerHeartbeat(NamedTuple):
    work_pool: str
    worker: str
    status: str
    last_heartbeat_time: dt.datetime | None


class ConcurrencySlots(NamedTuple):
    name: str
    active: bool
    limit: int
    active_slots: int


async def count_flow_runs_by_state(connection: AsyncConnection) -> dict[str, int]:
    """Flow runs per state type (only the types some run is in)."""
    run = t.flow_run
    query = sa.select(run.c.state_type, sa.func.count()).group_by(run.c.state_type)
    return {str(state_type): int(count) for state_type, count in (await connection.execute(query)).all() if state_type}


async def count_late_flow_runs(connection: AsyncConnection) -> int:
    """Flow runs in the Late state: scheduled, and not started this long after their scheduled time."""
    run = t.flow_run
    query = (
        sa.select(sa.func.count())
        .select_from(run)
        .where(run.c.state_type == StateType.SCHEDULED.value, run.c.state_name == LATE)
    )
    return int(await connection.scalar(query) or 0)


async def read_worker_heartbeats(connection: AsyncConnection) -> list[WorkerHeartbeat]:
    """Every worker with its work pool's name, its status and its last heartbeat."""
    worker, pool = t.worker, t.work_pool
    query = (
        sa.select(pool.c.name, worker.c.name, worker.c.status, worker.c.last_heartbeat_time)
        .select_from(worker.join(pool, pool.c.id == worker.c.work_pool_id))
        .order_by(pool.c.name, worker.c.name)
    )
    return [WorkerHeartbeat(*row) for row in (await connection.execute(query)).all()]


async def read_concurrency_slots(connection: AsyncConnection) -> list[ConcurrencySlots]:
    """Every global concurrency limit (tag limits included) with its slots taken, as last written (a rate limit's
    decay since its last change not applied)."""
    limit = t.concurrency_limit_v2
    query = sa.select(limit.c.name, limit.c.active, limit.c.limit, limit.c.active_slots).order_by(limit.c.name)
    return [ConcurrencySlots(*row) for row in (await connection.execute(query)).all()]


async def count_notification_deliveries_by_status(connection: AsyncConnection) -> dict[str, int]:
    """Notification deliveries per status (PENDING, RETRYING, SENT, FAILED)."""
    delivery = t.notification_delivery
    query = sa.select(delivery.c.status, sa.func.count()).group_by(delivery.c.status)
    return {str(status): int(count) for status, count in (await connection.execute(query)).all()}


async def count_automation_action_runs_by_status(connection: AsyncConnection) -> dict[str, int]:
    """Automation action runs per status (PENDING, RUNNING, SUCCEEDED, FAILED)."""
    action_run = t.automation_action_run
    query = sa.select(action_run.c.status, sa.func.count()).group_by(action_run.c.status)
    return {str(status): int(count) for status, count in (await connection.execute(query)).all()}

"""Data access for workers (the processes polling a pool) and the status sweep of workers, pools, queues and
deployments (Prefect's "foreman")."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.bad_rows import skip_bad_row
from baton.server.models.events import status_events
from baton.server.models.events.status_events import Event
from baton.server.schemas.work_pools import WorkerFilter, WorkerStatus, WorkPoolStatus, WorkQueueStatus

Row = dict[str, Any]


async def record_heartbeat(
    connection: AsyncConnection, pool: Row, name: str, heartbeat_interval_seconds: int | None
) -> tuple[uuid.UUID, list[Event]]:
    """Insert or refresh the worker `name` of the pool as ONLINE now; an unpaused NOT_READY pool becomes READY, with
    its `prefect.work-pool.ready` event. Returns the worker's id and the events written (none, on every heartbeat
    but the one that makes the pool ready: that is decided on the pool row the caller already read, and the update
    is guarded by the status it changes, so two heartbeats racing emit one event)."""
    now = utcnow()
    values = {"last_heartbeat_time": now, "status": WorkerStatus.ONLINE.value, "updated": now}
    if heartbeat_interval_seconds is not None:
        values["heartbeat_interval_seconds"] = heartbeat_interval_seconds
    insert = (
        dialect_of(connection)
        .insert(t.worker)
        .values(id=uuid.uuid4(), created=now, work_pool_id=pool["id"], name=name, **values)
        .on_conflict_do_update(index_elements=["work_pool_id", "name"], set_=values)
    )
    await connection.execute(insert)
    events: list[Event] = []
    if pool["status"] == WorkPoolStatus.NOT_READY and not pool["is_paused"]:
        event_id = uuid.uuid4()
        result = await connection.execute(
            sa.update(t.work_pool)
            .where(
                t.work_pool.c.id == pool["id"],
                t.work_pool.c.status == WorkPoolStatus.NOT_READY.value,
                t.work_pool.c.is_paused.is_(False),
            )
            .values(status=WorkPoolStatus.READY.value, last_transitioned_status_at=now, last_status_event_id=event_id)
        )
        if result.rowcount == 1:
            event = status_events.work_pool_status_event(pool, WorkPoolStatus.READY.value, event_id, now, pool)
            events = await status_events.record_status_events(connection, [event])
    worker_id = await connection.scalar(
        sa.select(t.worker.c.id).where(t.worker.c.work_pool_id == pool["id"], t.worker.c.name == name)
    )
    assert worker_id is not None
    return worker_id, events


def worker_condition(pool_id: uuid.UUID, spec: WorkerFilter | None) -> sa.ColumnElement[bool]:
    column = t.worker.c
    parts: list[sa.ColumnElement[bool]] = [column.work_pool_id == pool_id]
    if spec is not None:
        criteria: list[sa.ColumnElement[bool]] = []
        if spec.status is not None and spec.status.any_ is not None:
            criteria.append(column.status.in_([status.value for status in spec.status.any_]))
        if spec.status is not None and spec.status.not_any_:
            criteria.append(column.status.not_in([status.value for status in spec.status.not_any_]))
        heartbeat = spec.last_heartbeat_time
        if heartbeat is not None and heartbeat.before_ is not None:
            criteria.append(column.last_heartbeat_time <= heartbeat.before_)
        if heartbeat is not None and heartbeat.after_ is not None:
            criteria.append(column.last_heartbeat_time >= heartbeat.after_)
        if criteria:
            parts.append(sa.and_(*criteria) if spec.operator == "and_" else sa.or_(*criteria))
    return sa.and_(*parts)


async def filter_workers(
    connection: AsyncConnection, pool_id: uuid.UUID, spec: WorkerFilter | None, limit: int, offset: int
) -> list[Row]:
    """The pool's workers matching `spec` (all of them when None), the most recent heartbeat first."""
    return await read_workers(connection, worker_condition(pool_id, spec), limit, offset)


async def read_workers(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], limit: int, offset: int
) -> list[Row]:
    """Workers matching `condition`, the most recent heartbeat first."""
    query = (
        sa.select(t.worker)
        .where(condition)
        .order_by(t.worker.c.last_heartbeat_time.desc(), t.worker.c.name)
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def delete_worker(connection: AsyncConnection, pool_id: uuid.UUID, name: str) -> bool:
    result = await connection.execute(
        sa.delete(t.worker).where(t.worker.c.work_pool_id == pool_id, t.worker.c.name == name)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class StatusRules:
    """When the sweep takes something to be gone (Prefect's foreman defaults in the settings)."""

    #: A worker is OFFLINE after this many of its heartbeat intervals without a heartbeat.
    inactivity_heartbeat_multiple: float
    #: The interval assumed for a worker that did not say.
    fallback_heartbeat_interval_seconds: float
    #: A queue or deployment not polled for this long is NOT_READY.
    last_polled_timeout_seconds: float


@dataclass
class StatusChanges:
    workers_offline: int = 0
    pools_not_ready: int = 0
    queues_not_ready: int = 0
    deployments_not_ready: int = 0
    #: The status events written (`prefect.work-pool.not-ready` and the like), for the trigger engine.
    events: list[Event] = field(default_factory=list)


def _is_silent(row: Any, rules: StatusRules, now: dt.datetime) -> bool:
    """Whether the worker has missed enough heartbeats to be OFFLINE; a row whose interval makes no date (too large
    for the calendar, or not a number) is skipped, logged once, and left as it is."""
    if row.last_heartbeat_time is None:
        return True
    try:
        return bool(
            row.last_heartbeat_time
            < now - dt.timedelta(seconds=float(row.interval) * rules.inactivity_heartbeat_multiple)
        )
    except (OverflowError, ValueError) as exc:
        skip_bad_row("work pool status sweep", row.id, exc)
        return False


async def any_status_to_watch(connection: AsyncConnection) -> bool:
    """Whether `update_statuses` could change something as time passes: a worker ONLINE, a work pool, work queue or
    deployment READY. Without one, only a write (a heartbeat, a poll, a new pool) brings its work."""
    for table in (t.worker, t.work_pool, t.work_queue, t.deployment):
        ready = WorkerStatus.ONLINE.value if table is t.worker else "READY"
        query = sa.select(table.c.id).where(table.c.status == ready).limit(1)
        if (await connection.execute(query)).first() is not None:
            return True
    return False


async def update_statuses(
    connection: AsyncConnection, rules: StatusRules, now: dt.datetime | None = None
) -> StatusChanges:
    """One sweep: silent workers OFFLINE, pools without an online worker NOT_READY, queues and deployments not
    polled recently NOT_READY, each of those with its status event written. Each update is guarded by the condition
    it fixes, so a repeated (or concurrent) sweep changes nothing and writes no event twice."""
    now = now or utcnow()
    changes = StatusChanges()
    worker = t.worker.c
    interval = sa.func.coalesce(worker.heartbeat_interval_seconds, rules.fallback_heartbeat_interval_seconds)
    online = (
        await connection.execute(
            sa.select(worker.id, worker.last_heartbeat_time, interval.label("interval")).where(
                worker.status == WorkerStatus.ONLINE.value
            )
        )
    ).all()
    silent = [row.id for row in online if _is_silent(row, rules, now)]
    if silent:
        result = await connection.execute(
            sa.update(t.worker).where(worker.id.in_(silent)).values(status=WorkerStatus.OFFLINE.value, updated=now)
        )
        changes.workers_offline = result.rowcount
    pool = t.work_pool.c
    has_online_worker = (
        sa.select(worker.id).where(worker.work_pool_id == pool.id, worker.status == WorkerStatus.ONLINE.value).exists()
    )
    unready = (pool.status == WorkPoolStatus.READY.value, pool.is_paused.is_(False), ~has_online_worker)
    candidates = (
        await connection.execute(
            sa.select(*status_events.POOL_COLUMNS, pool.last_status_event_id, pool.last_transitioned_status_at).where(
                *unready
            )
        )
    ).mappings()
    for candidate in [dict(row) for row in candidates]:
        event_id = uuid.uuid4()
        result = await connection.execute(
            sa.update(t.work_pool)
            .where(pool.id == candidate["id"], *unready)
            .values(
                status=WorkPoolStatus.NOT_READY.value,
                last_transitioned_status_at=now,
                last_status_event_id=event_id,
                updated=now,
            )
        )
        if result.rowcount == 1:
            changes.pools_not_ready += 1
            changes.events.append(
                status_events.work_pool_status_event(
                    candidate, WorkPoolStatus.NOT_READY.value, event_id, now, candidate
                )
            )
    stale = now - dt.timedelta(seconds=rules.last_polled_timeout_seconds)
    queue = t.work_queue.c
    queues = (
        await connection.execute(
            sa.update(t.work_queue)
            .where(
                queue.status == WorkQueueStatus.READY.value,
                sa.or_(queue.last_polled.is_(None), queue.last_polled < stale),
            )
            .values(status=WorkQueueStatus.NOT_READY.value, updated=now)
            .returning(queue.id, queue.name, queue.work_pool_id)
        )
    ).mappings()
    queue_rows = [dict(row) for row in queues]
    changes.queues_not_ready = len(queue_rows)
    changes.events += await status_events.work_queue_status_events(
        connection, queue_rows, WorkQueueStatus.NOT_READY.value, now
    )
    deployment = t.deployment.c
    deployments = (
        await connection.execute(
            sa.update(t.deployment)
            .where(
                deployment.status == "READY",
                sa.or_(deployment.last_polled.is_(None), deployment.last_polled < stale),
            )
            .values(status="NOT_READY", updated=now)
            .returning(*status_events.DEPLOYMENT_COLUMNS)
        )
    ).mappings()
    deployment_rows = [dict(row) for row in deployments]
    changes.deployments_not_ready = len(deployment_rows)
    changes.events += await status_events.deployment_status_events(connection, deployment_rows, "NOT_READY", now)
    await status_events.record_status_events(connection, changes.events)
    return changes

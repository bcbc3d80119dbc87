"""The scheduler's data access: insert the upcoming Scheduled runs of active deployments (Prefect's rules).

Each active schedule of an unpaused deployment gets runs from now on until both minimums hold (at least `min_runs`
runs and at least `min_time` ahead), never more than `max_runs` (or the schedule's own `max_scheduled_runs`) and
never further than `max_time` ahead. Every run carries the idempotency key
`scheduled {deployment_id} {schedule_id} {time}`, and the flow_run table's unique (flow_id, idempotency_key) with
INSERT ... ON CONFLICT DO NOTHING makes a second scheduler (or the same one again) insert nothing twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.bad_rows import skip_bad_row
from baton.server.models.runs.run_names import generate_run_name
from baton.server.schedules import run_times
from baton.server.schemas.core import FlowRunPolicy
from baton.server.schemas.schedules import Schedule
from baton.server.schemas.states import StateDetails
from baton.states import StateType, default_state_name

Row = dict[str, Any]
# Deployments read, planned and written per transaction; a sweep goes on with the next batch.
DEPLOYMENT_BATCH_SIZE = 100
# Run ids per query that finds which runs went in (databases cap bound parameters per statement).
INSERT_BATCH_SIZE = 500
AUTO_SCHEDULED_TAG = "auto-scheduled"

_SCHEDULE = TypeAdapter(Schedule)
_POLICY = FlowRunPolicy().model_dump(mode="json")
_DETAILS = StateDetails().model_dump(mode="json")
# Rendered inline, so that PostgreSQL can match the partial index on SCHEDULED runs.
_SCHEDULED = sa.literal(StateType.SCHEDULED.value, literal_execute=True)
_SCHEDULED_NAME = default_state_name(StateType.SCHEDULED)


@dataclass(frozen=True)
class SchedulerLimits:
    """How far ahead the scheduler keeps deployments scheduled."""

    min_runs: int = 3
    max_runs: int = 100
    min_time: dt.timedelta = dt.timedelta(hours=1)
    max_time: dt.timedelta = dt.timedelta(days=100)

    @classmethod
    def from_settings(cls, settings: Any) -> SchedulerLimits:
        return cls(
            min_runs=settings.services_scheduler_min_runs,
            max_runs=settings.services_scheduler_max_runs,
            min_time=dt.timedelta(seconds=settings.services_scheduler_min_scheduled_time_seconds),
            max_time=dt.timedelta(seconds=settings.services_scheduler_max_scheduled_time_seconds),
        )


def idempotency_key(deployment_id: uuid.UUID, schedule_id: uuid.UUID, moment: dt.datetime) -> str:
    return f"scheduled {deployment_id} {schedule_id} {moment.astimezone(dt.UTC).isoformat()}"


async def any_scheduled_deployments(connection: AsyncConnection) -> bool:
    """Whether some unpaused deployment has an active schedule (only those get runs from the scheduler)."""
    deployment, schedule = t.deployment.c, t.deployment_schedule.c
    query = (
        sa.select(deployment.id)
        .where(
            deployment.paused.is_(False),
            sa.exists().where(schedule.deployment_id == deployment.id, schedule.active.is_(True)),
        )
        .limit(1)
    )
    return (await connection.execute(query)).first() is not None


async def read_deployments_to_schedule(
    connection: AsyncConnection,
    now: dt.datetime,
    limits: SchedulerLimits,
    *,
    after_id: uuid.UUID | None = None,
    only_ids: list[uuid.UUID] | None = None,
    batch: int = DEPLOYMENT_BATCH_SIZE,
) -> list[Row]:
    """Ids and `updated` of unpaused deployments with an active schedule that have fewer than `min_runs` future
    auto-scheduled runs or none as far as `min_time` ahead, in id order after `after_id`."""
    deployment, run, schedule = t.deployment.c, t.flow_run.c, t.deployment_schedule.c
    future = sa.and_(
        run.deployment_id == deployment.id,
        run.state_type == _SCHEDULED,
        run.auto_scheduled.is_(True),
        run.next_scheduled_start_time >= now,
    )
    future_count = sa.select(sa.func.count()).where(future).scalar_subquery()
    furthest = sa.select(sa.func.max(run.next_scheduled_start_time)).where(future).scalar_subquery()
    conditions = [
        deployment.paused.is_(False),
        sa.exists().where(schedule.deployment_id == deployment.id, schedule.active.is_(True)),
        sa.or_(future_count < limits.min_runs, furthest.is_(None), furthest < now + limits.min_time),
    ]
    if after_id is not None:
        conditions.append(deployment.id > after_id)
    if only_ids is not None:
        conditions.append(deployment.id.in_(only_ids))
    query = sa.select(deployment.id, deployment.updated).where(*conditions).order_by(deployment.id).limit(batch)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def plan_runs(
    connection: AsyncConnection, deployments: list[Row], now: dt.datetime, limits: SchedulerLimits
) -> list[Row]:
    """The run rows (state columns included) the deployments' active schedules call for from `now` on."""
    ids = [row["id"] for row in deployments]
    rows = (await connection.execute(sa.select(t.deployment).where(t.deployment.c.id.in_(ids)))).mappings().all()
    query = sa.select(t.deployment_schedule).where(
        t.deployment_schedule.c.deployment_id.in_(ids), t.deployment_schedule.c.active.is_(True)
    )
    schedules: dict[Any, list[Row]] = {}
    for found in (await connection.execute(query)).mappings():
        schedules.setdefault(found["deployment_id"], []).append(dict(found))
    existing = await _future_keys(connection, ids, now)
    runs: list[Row] = []
    for deployment in rows:
        for schedule in schedules.get(deployment["id"], []):
            try:
                moments = _upcoming(schedule, now, limits)
            except (ValueError, OverflowError, ArithmeticError) as exc:
                skip_bad_row("scheduler", schedule["id"], exc)
                continue
            for moment in moments:
                key = idempotency_key(deployment["id"], schedule["id"], moment)
                if key not in existing:
                    runs.append(_run_row(dict(deployment), schedule, moment, key, now))
    return runs


async def _future_keys(connection: AsyncConnection, deployment_ids: list[Any], now: dt.datetime) -> set[str]:
    """The idempotency keys of the deployments' auto-scheduled runs due from `now` on: those need no insert."""
    run = t.flow_run.c
    query = sa.select(run.idempotency_key).where(
        run.deployment_id.in_(deployment_ids),
        run.state_type == _SCHEDULED,
        run.auto_scheduled.is_(True),
        run.next_scheduled_start_time >= now,
    )
    return set(await connection.scalars(query))


def _upcoming(schedule: Row, now: dt.datetime, limits: SchedulerLimits) -> list[dt.datetime]:
    """The schedule's next run times: enough for both minimums, within the maximums."""
    most = min(limits.max_runs, schedule["max_scheduled_runs"] or limits.max_runs)
    times = run_times(_SCHEDULE.validate_python(schedule["schedule"]), most, now, now + limits.max_time)
    wanted: list[dt.datetime] = []
    for moment in times:
        wanted.append(moment)
        if len(wanted) >= limits.min_runs and moment >= now + limits.min_time:
            break
    return wanted


def _run_row(deployment: Row, schedule: Row, moment: dt.datetime, key: str, now: dt.datetime) -> Row:
    run_id, state_id = uuid.uuid4(), uuid.uuid4()
    return {
        "id": run_id,
        "created": now,
        "updated": now,
        "name": generate_run_name(),
        "flow_id": deployment["flow_id"],
        "deployment_id": deployment["id"],
        "deployment_version": deployment["version"],
        "flow_version": None,
        "parent_task_run_id": None,
        "idempotency_key": key,
        "parameters": {**(deployment["parameters"] or {}), **(schedule["parameters"] or {})},
        "context": {},
        "empirical_policy": _POLICY,
        "tags": list(dict.fromkeys([*(deployment["tags"] or []), AUTO_SCHEDULED_TAG])),
        "labels": {
            **(deployment["labels"] or {}),
            "prefect.flow.id": str(deployment["flow_id"]),
            "prefect.deployment.id": str(deployment["id"]),
        },
        "created_by": {"id": str(schedule["id"]), "type": "SCHEDULE", "display_value": schedule["slug"]},
        "infrastructure_pid": None,
        "job_variables": {},
        "infrastructure_document_id": deployment["infrastructure_document_id"],
        "work_queue_name": deployment["work_queue_name"],
        "work_queue_id": deployment["work_queue_id"],
        "auto_scheduled": True,
        "state_id": state_id,
        "state_type": StateType.SCHEDULED.value,
        "state_name": _SCHEDULED_NAME,
        "state_timestamp": now,
        "run_count": 0,
        "expected_start_time": moment,
        "next_scheduled_start_time": moment,
        "start_time": None,
        "end_time": None,
        "total_run_time": 0.0,
    }


async def insert_runs(connection: AsyncConnection, runs: list[Row], deployments: list[Row]) -> int:
    """Insert `runs` with their Scheduled states, skipping any whose idempotency key is taken and those of
    deployments that changed (or were paused or deleted) since `deployments` was read; returns how many went in.

    The deployments still as read are locked against change (FOR SHARE on PostgreSQL) until the caller commits, so
    an update either comes first and is seen here, or waits and then replaces these runs itself.
    """
    if not runs:
        return 0
    deployment = t.deployment.c
    planned = {row["id"]: row["updated"] for row in deployments}
    query = (
        sa.select(deployment.id, deployment.updated)
        .where(deployment.id.in_(list(planned)), deployment.paused.is_(False))
        .with_for_update(read=True)
    )
    unchanged = {row.id for row in (await connection.execute(query)).all() if row.updated == planned[row.id]}
    runs = [run for run in runs if run["deployment_id"] in unchanged]
    if not runs:
        return 0  # every deployment changed since it was read; an executemany of no rows would still INSERT once
    insert = (
        dialect_of(connection).insert(t.flow_run).on_conflict_do_nothing(index_elements=["flow_id", "idempotency_key"])
    )
    await connection.execute(insert, runs)
    ids: set[Any] = set()
    for start in range(0, len(runs), INSERT_BATCH_SIZE):
        chunk = [run["id"] for run in runs[start : start + INSERT_BATCH_SIZE]]
        ids.update(await connection.scalars(sa.select(t.flow_run.c.id).where(t.flow_run.c.id.in_(chunk))))
    states = [_state_row(run) for run in runs if run["id"] in ids]
    if states:
        await connection.execute(t.flow_run_state.insert(), states)
    inserted = len(states)
    return inserted


def _state_row(run: Row) -> Row:
    details = {
        **_DETAILS,
        "flow_run_id": str(run["id"]),
        "scheduled_time": run["next_scheduled_start_time"].isoformat(),
    }
    return {
        "id": run["state_id"],
        "created": run["created"],
        "updated": run["created"],
        "flow_run_id": run["id"],
        "type": StateType.SCHEDULED.value,
        "name": _SCHEDULED_NAME,
        "timestamp": run["state_timestamp"],
        "message": "Flow run scheduled",
        "data": None,
        "state_details": details,
    }


async def schedule_deployments(
    database: Any,
    limits: SchedulerLimits,
    *,
    deployment_ids: list[uuid.UUID] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """One scheduler pass over every active deployment (or those of `deployment_ids`), a batch per transaction;
    returns how many runs it inserted. Safe to run in several processes at once."""
    now = now or utcnow()
    total = 0
    after_id: uuid.UUID | None = None
    while True:
        async with database.read() as connection:
            batch = await read_deployments_to_schedule(
                connection, now, limits, after_id=after_id, only_ids=deployment_ids
            )
            runs = await plan_runs(connection, batch, now, limits) if batch else []
        if not batch:
            return total
        async with database.write() as connection:
            total += await insert_runs(connection, runs, batch)
        if len(batch) < DEPLOYMENT_BATCH_SIZE:
            return total
        after_id = batch[-1]["id"]

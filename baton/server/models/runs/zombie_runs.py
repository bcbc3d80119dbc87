"""Finding flow runs whose process is gone: Running runs that stopped sending heartbeats (zombies), and Cancelling
runs nobody is left to finish.

A run's liveness is the latest of: its current state's timestamp, its last `prefect.flow-run.heartbeat` event
(the 3.x engine sends one every PREFECT_FLOWS_HEARTBEAT_FREQUENCY, 180 s by default), and the last heartbeat of the
worker that took it (the `prefect.worker.name` label a worker puts on the run). A live worker therefore keeps its
runs alive between two engine heartbeats. A run with neither heartbeat events nor a known worker has no
liveness signal after it started and is never taken for a zombie.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.runs.flow_runs import read_flow_run
from baton.server.models.runs.states import set_flow_run_state
from baton.server.orchestration.context import TransitionOutcome
from baton.server.schemas.events import FLOW_RUN_RESOURCE_PREFIX
from baton.server.schemas.states import StateCreate
from baton.states import StateType

HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"
WORKER_NAME_LABEL = "prefect.worker.name"
# Runs looked at per sweep; the next sweep takes the rest.
BATCH_SIZE = 200


@dataclass(frozen=True)
class OrphanedRun:
    """A run to finish: its id, the state id it was found in, and the state to give it."""

    flow_run_id: uuid.UUID
    state_id: uuid.UUID
    proposed: StateCreate


async def any_active_flow_runs(connection: AsyncConnection) -> bool:
    """Whether some flow run is Running or Cancelling: only those can become zombies as time passes."""
    query = sa.select(t.flow_run.c.id).where(t.flow_run.c.state_type.in_(("RUNNING", "CANCELLING"))).limit(1)
    return (await connection.execute(query)).first() is not None


async def find_orphaned_runs(
    connection: AsyncConnection, now: dt.datetime, timeout_seconds: float, cancelling_timeout_seconds: float
) -> list[OrphanedRun]:
    """Running runs silent for `timeout_seconds` (-> Crashed); Cancelling runs silent for `timeout_seconds`, or
    Cancelling for `cancelling_timeout_seconds` whatever their heartbeats (-> Cancelled)."""
    run = t.flow_run.c
    cutoff = now - dt.timedelta(seconds=timeout_seconds)
    stuck_cancelling = now - dt.timedelta(seconds=cancelling_timeout_seconds)
    rows: list[Any] = list(
        await connection.execute(
            sa.select(
                run.id,
                run.state_id,
                run.state_type,
                run.state_timestamp,
                run.labels,
                t.work_queue.c.work_pool_id,
            )
            .select_from(t.flow_run.outerjoin(t.work_queue, t.work_queue.c.id == run.work_queue_id))
            .where(run.state_type.in_(("RUNNING", "CANCELLING")), run.state_timestamp < cutoff)
            .order_by(run.state_timestamp)
            .limit(BATCH_SIZE)
        )
    )
    if cancelling_timeout_seconds < timeout_seconds:
        rows += list(
            await connection.execute(
                sa.select(
                    run.id,
                    run.state_id,
                    run.state_type,
                    run.state_timestamp,
                    run.labels,
                    sa.null().label("work_pool_id"),
                ).where(run.state_type == "CANCELLING", run.state_timestamp < stuck_cancelling)
            )
        )
    if not rows:
        return []
    heartbeats = await _last_heartbeat_events(connection, [row.id for row in rows])
    workers = await _last_worker_heartbeats(connection, rows)
    orphaned: dict[uuid.UUID, OrphanedRun] = {}
    for row in rows:
        if row.id in orphaned:
            continue
        if row.state_type == "CANCELLING" and row.state_timestamp < stuck_cancelling:
            message = f"The run was still Cancelling after {cancelling_timeout_seconds:g} seconds."
            orphaned[row.id] = OrphanedRun(row.id, row.state_id, StateCreate(type=StateType.CANCELLED, message=message))
            continue
        worker_name = (row.labels or {}).get(WORKER_NAME_LABEL)
        signals = {
            "the run's heartbeat events": heartbeats.get(row.id),
            f"worker {worker_name!r}": workers.get((row.work_pool_id, worker_name)) if worker_name else None,
        }
        seen = {source: moment for source, moment in signals.items() if moment is not None}
        if not seen:
            continue
        source, last = max(seen.items(), key=lambda item: item[1])
        if max(last, row.state_timestamp) >= cutoff:
            continue
        if row.state_type == "RUNNING":
            proposed = StateCreate(
                type=StateType.CRASHED,
                message=f"No heartbeat for {timeout_seconds:g} s (the last from {source}); the run's process is gone.",
            )
        else:
            proposed = StateCreate(
                type=StateType.CANCELLED,
                message=f"No heartbeat for {timeout_seconds:g} s (the last from {source}); nothing is left to cancel.",
            )
        orphaned[row.id] = OrphanedRun(row.id, row.state_id, proposed)
    return list(orphaned.values())


async def _last_heartbeat_events(connection: AsyncConnection, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, dt.datetime]:
    resource_ids = [f"{FLOW_RUN_RESOURCE_PREFIX}{run_id}" for run_id in run_ids]
    events = t.events.c
    query = (
        sa.select(events.resource_id, sa.func.max(events.occurred))
        .where(events.event == HEARTBEAT_EVENT, events.resource_id.in_(resource_ids))
        .group_by(events.resource_id)
    )
    return {
        uuid.UUID(resource_id[len(FLOW_RUN_RESOURCE_PREFIX) :]): occurred
        for resource_id, occurred in await connection.execute(query)
    }


async def _last_worker_heartbeats(connection: AsyncConnection, rows: list[Any]) -> dict[tuple[Any, str], dt.datetime]:
    names = {(row.labels or {}).get(WORKER_NAME_LABEL) for row in rows} - {None}
    if not names:
        return {}
    worker = t.worker.c
    query = sa.select(worker.work_pool_id, worker.name, worker.last_heartbeat_time).where(
        worker.name.in_(names), worker.last_heartbeat_time.is_not(None)
    )
    return {(pool_id, name): seen for pool_id, name, seen in await connection.execute(query)}


async def finish_orphaned_run(connection: AsyncConnection, orphan: OrphanedRun) -> TransitionOutcome | None:
    """Propose the orphan's final state under the run's row lock, unless the run moved on since it was found."""
    row = await read_flow_run(connection, orphan.flow_run_id, for_update=True)
    if row is None or row["state_id"] != orphan.state_id:
        return None
    return await set_flow_run_state(connection, orphan.flow_run_id, orphan.proposed, row=row)

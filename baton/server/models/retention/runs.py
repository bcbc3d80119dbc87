"""Which finished runs are past their retention, and deleting them with everything that refers to them.

A flow run goes with its task runs, the state history of both, its inputs, its logs and its task runs' logs, the
artifacts of both (their keys' collections re-pointed at the newest remaining version), the task-run states' cache
entries and the notification deliveries of its states. Its subflow runs are runs of their own: a subflow that is
kept (not finished, or ended later) loses its `parent_task_run_id` and stays as a top-level run.

A run that still names a concurrency lease as its holder is kept until the lease sweep releases the lease (deleting
the lease here would leak its slots), and is deleted by a later pass.

Every statement takes the batch's run ids and finds dependents by subquery: a batch of runs with many task runs never
binds more parameters than it has runs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.artifacts import delete_artifacts_where
from baton.states import TERMINAL_STATE_VALUES

_lease = t.concurrency_lease.c


def _finished_before(table: sa.Table, cutoff: dt.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(table.c.end_time < cutoff, table.c.state_type.in_(TERMINAL_STATE_VALUES))


def expired_flow_runs(cutoff: dt.datetime) -> sa.Select[tuple[uuid.UUID]]:
    """Ids of flow runs in a terminal state that ended before `cutoff` and whose task runs hold no lease."""
    run, task = t.flow_run.c, t.task_run.c
    return sa.select(run.id).where(
        _finished_before(t.flow_run, cutoff),
        ~sa.exists().where(_lease.holder_id == run.id),
        ~sa.exists().where(task.flow_run_id == run.id, _lease.holder_id == task.id),
    )


def expired_task_runs(cutoff: dt.datetime) -> sa.Select[tuple[uuid.UUID]]:
    """Ids of task runs outside any flow run (those inside one go with it) in a terminal state that ended before
    `cutoff` and hold no lease."""
    task = t.task_run.c
    return sa.select(task.id).where(
        task.flow_run_id.is_(None),
        _finished_before(t.task_run, cutoff),
        ~sa.exists().where(_lease.holder_id == task.id),
    )


async def _delete_task_runs(connection: AsyncConnection, task_ids: sa.Select[tuple[uuid.UUID]]) -> int:
    """Delete the task runs `task_ids` selects, with their states, cache entries, logs and artifacts, and detach the
    subflow runs they parent; how many task runs were deleted."""
    await connection.execute(
        sa.update(t.flow_run).where(t.flow_run.c.parent_task_run_id.in_(task_ids)).values(parent_task_run_id=None)
    )
    state_ids = sa.select(t.task_run_state.c.id).where(t.task_run_state.c.task_run_id.in_(task_ids))
    await connection.execute(
        sa.delete(t.task_run_state_cache).where(t.task_run_state_cache.c.task_run_state_id.in_(state_ids))
    )
    await connection.execute(sa.delete(t.log).where(t.log.c.task_run_id.in_(task_ids)))
    await delete_artifacts_where(connection, t.artifact.c.task_run_id.in_(task_ids))
    await connection.execute(sa.delete(t.task_run_state).where(t.task_run_state.c.task_run_id.in_(task_ids)))
    return (await connection.execute(sa.delete(t.task_run).where(t.task_run.c.id.in_(task_ids)))).rowcount


async def delete_task_runs_batch(connection: AsyncConnection, task_run_ids: Sequence[uuid.UUID]) -> int:
    """Delete these task runs and what refers to them; how many task runs were deleted."""
    return await _delete_task_runs(connection, sa.select(t.task_run.c.id).where(t.task_run.c.id.in_(task_run_ids)))


async def delete_flow_runs_batch(connection: AsyncConnection, flow_run_ids: Sequence[uuid.UUID]) -> int:
    """Delete these flow runs and what refers to them (see the module docstring); how many runs were deleted."""
    ids = list(flow_run_ids)
    await _delete_task_runs(connection, sa.select(t.task_run.c.id).where(t.task_run.c.flow_run_id.in_(ids)))
    await connection.execute(sa.delete(t.log).where(t.log.c.flow_run_id.in_(ids)))
    await delete_artifacts_where(connection, t.artifact.c.flow_run_id.in_(ids))
    await connection.execute(sa.delete(t.notification_delivery).where(t.notification_delivery.c.flow_run_id.in_(ids)))
    await connection.execute(sa.delete(t.flow_run_input).where(t.flow_run_input.c.flow_run_id.in_(ids)))
    await connection.execute(sa.delete(t.flow_run_state).where(t.flow_run_state.c.flow_run_id.in_(ids)))
    result = await connection.execute(sa.delete(t.flow_run).where(t.flow_run.c.id.in_(ids)))
    return result.rowcount

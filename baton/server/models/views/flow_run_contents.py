"""What a flow run holds, read for its page: its flow and deployment names, task runs (light rows for the timeline,
full rows a page at a time), subflow runs and artifacts. Each read is one indexed query."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models import artifacts
from baton.server.models.runs import flow_runs, task_runs


async def read_flow_and_deployment_names(
    connection: AsyncConnection, flow_id: uuid.UUID, deployment_id: uuid.UUID | None
) -> tuple[str | None, str | None]:
    """The names of the flow and of the deployment (None for one that does not exist)."""
    flow_name = await connection.scalar(sa.select(t.flow.c.name).where(t.flow.c.id == flow_id))
    deployment_name = None
    if deployment_id is not None:
        deployment_name = await connection.scalar(
            sa.select(t.deployment.c.name).where(t.deployment.c.id == deployment_id)
        )
    return flow_name, deployment_name


TIMELINE_COLUMNS = [
    t.task_run.c.id,
    t.task_run.c.name,
    t.task_run.c.task_key,
    t.task_run.c.state_type,
    t.task_run.c.state_name,
    t.task_run.c.start_time,
    t.task_run.c.end_time,
    t.task_run.c.expected_start_time,
    t.task_run.c.total_run_time,
    t.task_run.c.created,
]


async def read_timeline_task_runs(
    connection: AsyncConnection, flow_run_id: uuid.UUID, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` of the run's task runs with what a timeline draws, earliest first (found through the unique
    index on flow_run_id, task_key, dynamic_key)."""
    query = (
        sa.select(*TIMELINE_COLUMNS)
        .where(t.task_run.c.flow_run_id == flow_run_id)
        .order_by(
            sa.func.coalesce(t.task_run.c.start_time, t.task_run.c.expected_start_time, t.task_run.c.created),
            t.task_run.c.id,
        )
        .limit(limit)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


def _task_runs_of(flow_run_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return t.task_run.c.flow_run_id == flow_run_id


async def read_flow_run_task_runs(
    connection: AsyncConnection, flow_run_id: uuid.UUID, limit: int, offset: int
) -> list[dict[str, Any]]:
    """A page of the run's task runs with their current state, in the order they started."""
    order = [
        sa.func.coalesce(t.task_run.c.start_time, t.task_run.c.expected_start_time, t.task_run.c.created),
        t.task_run.c.id,
    ]
    return await task_runs.read_task_runs(connection, _task_runs_of(flow_run_id), order, limit, offset)


def _subflows_of(flow_run_id: uuid.UUID) -> sa.ColumnElement[bool]:
    parent_tasks = sa.select(t.task_run.c.id).where(t.task_run.c.flow_run_id == flow_run_id).scalar_subquery()
    return t.flow_run.c.parent_task_run_id.in_(parent_tasks)


async def read_subflow_runs(connection: AsyncConnection, flow_run_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
    """Flow runs started from the run's tasks (ix_flow_run__parent_task_run_id), earliest first."""
    order = [sa.func.coalesce(t.flow_run.c.start_time, t.flow_run.c.expected_start_time), t.flow_run.c.id]
    return await flow_runs.read_flow_runs(connection, _subflows_of(flow_run_id), order, limit, 0)


async def count_subflow_runs(connection: AsyncConnection, flow_run_id: uuid.UUID) -> int:
    return await flow_runs.count_flow_runs(connection, _subflows_of(flow_run_id))


async def read_flow_run_artifacts(
    connection: AsyncConnection, flow_run_id: uuid.UUID, limit: int
) -> list[dict[str, Any]]:
    """The run's artifacts (ix_artifact__flow_run_id), newest first."""
    condition = t.artifact.c.flow_run_id == flow_run_id
    return await artifacts.read_artifacts(
        connection, condition, [t.artifact.c.created.desc(), t.artifact.c.id], limit, 0
    )


async def count_flow_run_artifacts(connection: AsyncConnection, flow_run_id: uuid.UUID) -> int:
    return await artifacts.count_artifacts(connection, t.artifact.c.flow_run_id == flow_run_id)

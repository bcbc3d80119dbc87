"""The runs the bulk endpoints of flow runs and task runs act on: the first ones matching a filter (newest id first,
the filter endpoints' default order), and deleting them one by one as the single delete does."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect, dialect_of
from baton.server.models.filters import core as filters
from baton.server.models.runs import flow_runs, task_runs
from baton.server.schemas.filters import FlowRunFilter, TaskRunFilter
from baton.server.schemas.requests import RunFilterSet


@dataclass(frozen=True)
class BulkTarget:
    """A kind of run: its table, the WHERE condition of a filter request over it, and its single delete."""

    table: sa.Table
    condition: Callable[[RunFilterSet, DatabaseDialect], sa.ColumnElement[bool]]
    delete_one: Callable[[AsyncConnection, uuid.UUID], Awaitable[bool]]

    @property
    def filter_field(self) -> str:
        """The field its filter goes in, of a `RunFilterSet` and of a bulk request body: `flow_runs`, `task_runs`."""
        return f"{self.table.name}s"

    @property
    def id_field(self) -> str:
        """The field of a run's id in a bulk answer: `flow_run_id`, `task_run_id`."""
        return f"{self.table.name}_id"


FLOW_RUNS = BulkTarget(t.flow_run, filters.flow_run_condition, flow_runs.delete_flow_run)
TASK_RUNS = BulkTarget(t.task_run, filters.task_run_condition, task_runs.delete_task_run)


async def read_matching_ids(
    connection: AsyncConnection, target: BulkTarget, run_filter: FlowRunFilter | TaskRunFilter | None, limit: int
) -> list[uuid.UUID]:
    """Ids of the first `limit` runs of `target` matching `run_filter` (every run when it is None)."""
    request = RunFilterSet.model_validate({target.filter_field: run_filter})
    condition = target.condition(request, dialect_of(connection))
    id_column = target.table.c.id
    query = sa.select(id_column).where(condition).order_by(id_column.desc()).limit(limit)
    return list((await connection.execute(query)).scalars())


async def delete_matching(
    connection: AsyncConnection, target: BulkTarget, run_filter: FlowRunFilter | TaskRunFilter | None, limit: int
) -> list[uuid.UUID]:
    """Delete the first `limit` runs of `target` matching `run_filter`, each with what its single delete deletes
    along (a flow run's task runs and logs, a task run's states); their ids."""
    run_ids = await read_matching_ids(connection, target, run_filter, limit)
    for run_id in run_ids:
        await target.delete_one(connection, run_id)
    return run_ids

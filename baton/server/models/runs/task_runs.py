"""Data access for task runs created over REST (the events pipeline records the rest)."""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple, NoReturn

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.filters import core as filters
from baton.server.models.runs.history import run_history
from baton.server.models.runs.run_names import generate_run_name
from baton.server.schemas.actions import TaskRunCreate, TaskRunUpdate
from baton.server.schemas.requests import FlowRunHistoryRequest, RunFilterSet, TaskRunPaginateRequest
from baton.server.schemas.sorting import TaskRunSort

_state = t.task_run_state.alias("current_state")
TASK_RUN_COLUMNS = [
    *t.task_run.c,
    _state.c.message.label("state_message"),
    _state.c.state_details.label("state_details"),
    _state.c.data.label("state_data"),
]
TASK_RUN_FROM = t.task_run.outerjoin(_state, _state.c.id == t.task_run.c.state_id)


# Every key a task-run row read with TASK_RUN_COLUMNS has, all None: the base of a row built in Python.
_EMPTY_TASK_RUN = {column.key: None for column in TASK_RUN_COLUMNS}

_parent_state = t.flow_run_state.alias("parent_state")
# What the task policy needs of the parent flow run: its state (with details, for a pause deadline) and attempt.
_PARENT_FLOW_RUN = (
    sa.select(
        t.flow_run.c.state_type,
        t.flow_run.c.state_name,
        t.flow_run.c.run_count,
        _parent_state.c.state_details,
    )
    .outerjoin(_parent_state, _parent_state.c.id == t.flow_run.c.state_id)
    .where(t.flow_run.c.id == sa.bindparam("flow_run_id"))
)


class CreatedTaskRun(NamedTuple):
    row: dict[str, Any]
    created: bool
    # The parent flow run as `read_parent_flow_run` gives it (None without one), read while checking it exists.
    parent_flow_run: dict[str, Any] | None


async def read_parent_flow_run(connection: AsyncConnection, flow_run_id: uuid.UUID | None) -> dict[str, Any] | None:
    """{state_type, state_name, run_count, state_details} of a task run's flow run; None without one."""
    if flow_run_id is None:
        return None
    row = (await connection.execute(_PARENT_FLOW_RUN, {"flow_run_id": flow_run_id})).mappings().first()
    if row is None:
        return None
    parent = dict(row)
    parent["state_details"] = parent["state_details"] or {}
    return parent


def select_task_runs() -> sa.Select[Any]:
    """SELECT of task runs with their current state; add WHERE / ORDER BY / LIMIT."""
    return sa.select(*TASK_RUN_COLUMNS).select_from(TASK_RUN_FROM)


async def create_task_run(connection: AsyncConnection, run: TaskRunCreate) -> CreatedTaskRun:
    """Insert the task run without a state (the caller applies the initial one), or return the existing run with
    the same flow run, task key and dynamic key."""
    parent = await read_parent_flow_run(connection, run.flow_run_id)
    if run.flow_run_id is not None and parent is None:
        raise ObjectNotFound(f"Flow run {run.flow_run_id} does not exist.")
    now = utcnow()
    task_run_id = run.id or uuid.uuid4()
    values = {
        "id": task_run_id,
        "created": now,
        "updated": now,
        "name": run.name or generate_run_name(),
        "flow_run_id": run.flow_run_id,
        "task_key": run.task_key,
        "dynamic_key": run.dynamic_key,
        "cache_key": run.cache_key,
        "cache_expiration": run.cache_expiration,
        "task_version": run.task_version,
        "empirical_policy": run.empirical_policy.model_dump(mode="json"),
        "tags": run.tags,
        "labels": run.labels or {},
        "task_inputs": run.task_inputs,
        "flow_run_run_count": 0,
        "run_count": 0,
        "total_run_time": 0.0,
    }
    if run.flow_run_id is not None:
        insert = (
            dialect_of(connection)
            .insert(t.task_run)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["flow_run_id", "task_key", "dynamic_key"])
        )
        result = await connection.execute(insert)
        if result.rowcount == 0:
            existing = await connection.scalar(
                sa.select(t.task_run.c.id).where(
                    t.task_run.c.flow_run_id == run.flow_run_id,
                    t.task_run.c.task_key == run.task_key,
                    t.task_run.c.dynamic_key == run.dynamic_key,
                )
            )
            if existing is None:  # the conflict was on the id
                raise_duplicate_id(task_run_id)
            row = await read_task_run(connection, existing)
            assert row is not None
            return CreatedTaskRun(row, False, parent)
    else:
        insert = (
            dialect_of(connection).insert(t.task_run).values(**values).on_conflict_do_nothing(index_elements=["id"])
        )
        if (await connection.execute(insert)).rowcount == 0:
            row = await read_task_run(connection, task_run_id)
            assert row is not None
            return CreatedTaskRun(row, False, parent)
    return CreatedTaskRun({**_EMPTY_TASK_RUN, **values}, True, parent)


def raise_duplicate_id(task_run_id: uuid.UUID) -> NoReturn:
    from baton.errors import ObjectAlreadyExists

    raise ObjectAlreadyExists(f"A task run with id {task_run_id} already exists with another task key.")


_TASK_RUN_BY_ID = select_task_runs().where(t.task_run.c.id == sa.bindparam("task_run_id"))
# Locks only the task run row on PostgreSQL (see flow_runs._FLOW_RUN_BY_ID_FOR_UPDATE).
_TASK_RUN_BY_ID_FOR_UPDATE = _TASK_RUN_BY_ID.with_for_update(of=t.task_run)

_parent = t.flow_run.alias("parent_flow_run")
_PARENT_COLUMNS = {
    "state_type": _parent.c.state_type,
    "state_name": _parent.c.state_name,
    "run_count": _parent.c.run_count,
    "state_details": _parent_state.c.state_details,
}
# The task run, locked, with what the task policy needs of its flow run, in one round trip.
_TASK_RUN_FOR_TRANSITION = (
    sa.select(
        *TASK_RUN_COLUMNS,
        _parent.c.id.label("parent_id"),
        *(column.label(f"parent_{name}") for name, column in _PARENT_COLUMNS.items()),
    )
    .select_from(
        TASK_RUN_FROM.outerjoin(_parent, _parent.c.id == t.task_run.c.flow_run_id).outerjoin(
            _parent_state, _parent_state.c.id == _parent.c.state_id
        )
    )
    .where(t.task_run.c.id == sa.bindparam("task_run_id"))
    .with_for_update(of=t.task_run)
)


async def read_task_run_for_transition(
    connection: AsyncConnection, task_run_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The task run, locked, and its flow run as `read_parent_flow_run` gives it; None when there is no such run."""
    result = (await connection.execute(_TASK_RUN_FOR_TRANSITION, {"task_run_id": task_run_id})).mappings().first()
    if result is None:
        return None
    row = dict(result)
    parent = {name: row.pop(f"parent_{name}") for name in _PARENT_COLUMNS}
    if row.pop("parent_id") is None:
        return row, None
    parent["state_details"] = parent["state_details"] or {}
    return row, parent


async def read_task_run(
    connection: AsyncConnection, task_run_id: uuid.UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    """The task run with its current state's message, details and data; None when there is no such run."""
    query = _TASK_RUN_BY_ID_FOR_UPDATE if for_update else _TASK_RUN_BY_ID
    row = (await connection.execute(query, {"task_run_id": task_run_id})).mappings().first()
    return dict(row) if row else None


async def read_task_runs(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], order_by: list[Any], limit: int, offset: int
) -> list[dict[str, Any]]:
    query = select_task_runs().where(condition).order_by(*order_by).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_task_runs(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(t.task_run).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def read_task_run_or_404(connection: AsyncConnection, task_run_id: uuid.UUID) -> dict[str, Any]:
    """The task run as `read_task_run` gives it; ObjectNotFound when there is none."""
    row = await read_task_run(connection, task_run_id)
    if row is None:
        raise ObjectNotFound(f"Task run {task_run_id} does not exist.")
    return row


async def filter_task_runs(
    connection: AsyncConnection, request: RunFilterSet, sort: TaskRunSort, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The task runs matching the filters of `request`, in `sort` order (a running run's duration counted up to
    now), `limit` of them from `offset`."""
    dialect = dialect_of(connection)
    condition = filters.task_run_condition(request, dialect)
    return await read_task_runs(connection, condition, filters.task_run_order_by(sort, dialect), limit, offset)


async def count_task_runs_matching(connection: AsyncConnection, request: RunFilterSet) -> int:
    """How many task runs match the filters of `request`."""
    return await count_task_runs(connection, filters.task_run_condition(request, dialect_of(connection)))


async def paginate_task_runs(
    connection: AsyncConnection, request: TaskRunPaginateRequest, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Page `request.page` (of `limit` task runs) of those matching `request`, and how many match in all."""
    dialect = dialect_of(connection)
    condition = filters.task_run_condition(request, dialect)
    count = await count_task_runs(connection, condition)
    order_by = filters.task_run_order_by(request.sort, dialect)
    return await read_task_runs(connection, condition, order_by, limit, (request.page - 1) * limit), count


async def read_task_run_history(connection: AsyncConnection, request: FlowRunHistoryRequest) -> list[dict[str, Any]]:
    """Counts of the task runs matching `request` per state in each of its time buckets."""
    condition = filters.task_run_condition(request, dialect_of(connection))
    return await run_history(
        connection, "task_run", request.history_start, request.history_end, request.interval_seconds, condition
    )


async def update_task_run(connection: AsyncConnection, task_run_id: uuid.UUID, update: TaskRunUpdate) -> bool:
    values = {key: value for key, value in update.model_dump(exclude_unset=True).items() if value is not None}
    result = await connection.execute(
        sa.update(t.task_run).where(t.task_run.c.id == task_run_id).values(updated=utcnow(), **values)
    )
    return result.rowcount == 1


async def delete_task_run(connection: AsyncConnection, task_run_id: uuid.UUID) -> bool:
    """Delete the task run with its state history; False when there is no such run."""
    result = await connection.execute(sa.delete(t.task_run).where(t.task_run.c.id == task_run_id))
    return result.rowcount == 1


async def read_task_run_states(connection: AsyncConnection, task_run_id: uuid.UUID) -> list[dict[str, Any]]:
    """The task run's state history, oldest first."""
    query = (
        sa.select(t.task_run_state)
        .where(t.task_run_state.c.task_run_id == task_run_id)
        .order_by(t.task_run_state.c.timestamp, t.task_run_state.c.created)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_task_run_state(connection: AsyncConnection, state_id: uuid.UUID) -> dict[str, Any] | None:
    result = await connection.execute(sa.select(t.task_run_state).where(t.task_run_state.c.id == state_id))
    row = result.mappings().first()
    return dict(row) if row else None

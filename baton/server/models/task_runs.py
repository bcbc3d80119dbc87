"""Data access for task runs created over REST (the events pipeline records the rest)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.names import generate_run_name
from baton.server.schemas.actions import TaskRunCreate, TaskRunUpdate

_state = t.task_run_state.alias("current_state")
TASK_RUN_COLUMNS = [
    *t.task_run.c,
    _state.c.message.label("state_message"),
    _state.c.state_details.label("state_details"),
    _state.c.data.label("state_data"),
]
TASK_RUN_FROM = t.task_run.outerjoin(_state, _state.c.id == t.task_run.c.state_id)


def select_task_runs() -> sa.Select[Any]:
    """SELECT of task runs with their current state; add WHERE / ORDER BY / LIMIT."""
    return sa.select(*TASK_RUN_COLUMNS).select_from(TASK_RUN_FROM)


async def create_task_run(connection: AsyncConnection, run: TaskRunCreate) -> tuple[dict[str, Any], bool]:
    """Insert the task run without a state (the caller applies the initial one), or return the existing run with
    the same flow run, task key and dynamic key. The flag says whether a run was created."""
    if run.flow_run_id is not None:
        flow_run_exists = await connection.scalar(sa.select(t.flow_run.c.id).where(t.flow_run.c.id == run.flow_run_id))
        if flow_run_exists is None:
            raise ObjectNotFound(f"Flow run {run.flow_run_id} does not exist.")
    now = utcnow()
    values = {
        "id": run.id or uuid.uuid4(),
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
                raise_duplicate_id(values["id"])
            row = await read_task_run(connection, existing)
            assert row is not None
            return row, False
    else:
        insert = (
            dialect_of(connection).insert(t.task_run).values(**values).on_conflict_do_nothing(index_elements=["id"])
        )
        if (await connection.execute(insert)).rowcount == 0:
            row = await read_task_run(connection, values["id"])
            assert row is not None
            return row, False
    return {**values, "state_id": None, "state_type": None, "state_name": None, "state_timestamp": None}, True


def raise_duplicate_id(task_run_id: uuid.UUID) -> None:
    from baton.errors import ObjectAlreadyExists

    raise ObjectAlreadyExists(f"A task run with id {task_run_id} already exists with another task key.")


async def read_task_run(
    connection: AsyncConnection, task_run_id: uuid.UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    """The task run with its current state's message, details and data; None when there is no such run."""
    if for_update:
        await connection.execute(sa.select(t.task_run.c.id).where(t.task_run.c.id == task_run_id).with_for_update())
    row = (await connection.execute(select_task_runs().where(t.task_run.c.id == task_run_id))).mappings().first()
    return dict(row) if row else None


async def read_task_runs(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], order_by: list[Any], limit: int, offset: int
) -> list[dict[str, Any]]:
    query = select_task_runs().where(condition).order_by(*order_by).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_task_runs(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(t.task_run).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def update_task_run(connection: AsyncConnection, task_run_id: uuid.UUID, update: TaskRunUpdate) -> bool:
    values = {key: value for key, value in update.model_dump(exclude_unset=True).items() if value is not None}
    result = await connection.execute(
        sa.update(t.task_run).where(t.task_run.c.id == task_run_id).values(updated=utcnow(), **values)
    )
    return result.rowcount == 1


async def delete_task_run(connection: AsyncConnection, task_run_id: uuid.UUID) -> bool:
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

"""Data access for flow runs: create (with idempotency keys), read with the current state, update, delete."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.filters import core as filters
from baton.server.models.runs.history import run_history
from baton.server.models.runs.run_names import generate_run_name
from baton.server.schemas.actions import FlowRunCreate, FlowRunUpdate
from baton.server.schemas.requests import FlowRunHistoryRequest, FlowRunPaginateRequest, RunFilterSet
from baton.server.schemas.sorting import FlowRunSort
from baton.states import TERMINAL_STATE_VALUES, StateType, default_state_name

_state = t.flow_run_state.alias("current_state")
_queue = t.work_queue.alias("run_queue")
_pool = t.work_pool.alias("run_pool")

# flow_run columns plus the current state's own columns and the work pool, in one query.
FLOW_RUN_COLUMNS = [
    *t.flow_run.c,
    _state.c.message.label("state_message"),
    _state.c.state_details.label("state_details"),
    _state.c.data.label("state_data"),
    _pool.c.id.label("work_pool_id"),
    _pool.c.name.label("work_pool_name"),
]
FLOW_RUN_FROM = (
    t.flow_run.outerjoin(_state, _state.c.id == t.flow_run.c.state_id)
    .outerjoin(_queue, _queue.c.id == t.flow_run.c.work_queue_id)
    .outerjoin(_pool, _pool.c.id == _queue.c.work_pool_id)
)


# Every key a flow-run row read with FLOW_RUN_COLUMNS has, all None: the base of a row built in Python.
_EMPTY_FLOW_RUN = {column.key: None for column in FLOW_RUN_COLUMNS}


def select_flow_runs() -> sa.Select[Any]:
    """SELECT of flow runs with their current state and work pool; add WHERE / ORDER BY / LIMIT."""
    return sa.select(*FLOW_RUN_COLUMNS).select_from(FLOW_RUN_FROM)


async def create_flow_run(connection: AsyncConnection, run: FlowRunCreate) -> tuple[dict[str, Any], bool]:
    """Insert the run without a state (the caller applies the initial one); with an idempotency key already used
    for this flow, return that run instead. The flag says whether a run was created."""
    flow_labels = (await connection.execute(sa.select(t.flow.c.labels).where(t.flow.c.id == run.flow_id))).first()
    if flow_labels is None:
        raise ObjectNotFound(f"Flow {run.flow_id} does not exist.")
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "created": now,
        "updated": now,
        "name": run.name or generate_run_name(),
        "flow_id": run.flow_id,
        "deployment_id": run.deployment_id,
        "flow_version": run.flow_version,
        "parameters": run.parameters,
        "context": run.context,
        "parent_task_run_id": run.parent_task_run_id,
        "infrastructure_document_id": run.infrastructure_document_id,
        "empirical_policy": run.empirical_policy.model_dump(mode="json"),
        "tags": run.tags,
        "labels": await _labels_of_new_run(connection, run, flow_labels[0] or {}),
        "idempotency_key": run.idempotency_key,
        "work_queue_name": run.work_queue_name,
        "job_variables": run.job_variables or {},
        "run_count": 0,
        "total_run_time": 0.0,
        "auto_scheduled": False,
    }
    if run.idempotency_key is not None:
        insert = dialect_of(connection).insert(t.flow_run).values(**values)
        insert = insert.on_conflict_do_nothing(index_elements=["flow_id", "idempotency_key"])
        result = await connection.execute(insert)
        if result.rowcount == 0:
            existing = await connection.scalar(
                sa.select(t.flow_run.c.id).where(
                    t.flow_run.c.flow_id == run.flow_id, t.flow_run.c.idempotency_key == run.idempotency_key
                )
            )
            assert existing is not None  # the insert met the run with this idempotency key
            row = await read_flow_run(connection, existing)
            assert row is not None
            return row, False
    else:
        await connection.execute(t.flow_run.insert(), values)
    return {**_EMPTY_FLOW_RUN, **values}, True


async def _labels_of_new_run(
    connection: AsyncConnection, run: FlowRunCreate, flow_labels: dict[str, Any]
) -> dict[str, Any]:
    """As Prefect labels a new run: its parent's labels (the deployment's if it has one, else the flow's), then the
    system labels naming the flow (and deployment), then the caller's own labels, each overriding the one before."""
    system = {"prefect.flow.id": str(run.flow_id)}
    parent = flow_labels
    if run.deployment_id is not None:
        deployment_labels = (
            await connection.execute(sa.select(t.deployment.c.labels).where(t.deployment.c.id == run.deployment_id))
        ).first()
        if deployment_labels is not None:
            parent = deployment_labels[0] or {}
            system["prefect.deployment.id"] = str(run.deployment_id)
    return {**parent, **system, **(run.labels or {})}


# Built once: the statements of the hot path take their values as bound parameters.
_FLOW_RUN_BY_ID = select_flow_runs().where(t.flow_run.c.id == sa.bindparam("flow_run_id"))
# Locks only the run row (PostgreSQL; SQLite writers are already serialised and render no FOR UPDATE), so
# concurrent proposals for one run are decided one at a time.
_FLOW_RUN_BY_ID_FOR_UPDATE = _FLOW_RUN_BY_ID.with_for_update(of=t.flow_run)


async def read_flow_run(
    connection: AsyncConnection, flow_run_id: uuid.UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    """The run with its current state's message, details and data; None when there is no such run."""
    query = _FLOW_RUN_BY_ID_FOR_UPDATE if for_update else _FLOW_RUN_BY_ID
    row = (await connection.execute(query, {"flow_run_id": flow_run_id})).mappings().first()
    return dict(row) if row else None


async def read_flow_runs(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], order_by: list[Any], limit: int, offset: int
) -> list[dict[str, Any]]:
    query = select_flow_runs().where(condition).order_by(*order_by).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_flow_runs(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(t.flow_run).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def read_flow_run_or_404(connection: AsyncConnection, flow_run_id: uuid.UUID) -> dict[str, Any]:
    """The run as `read_flow_run` gives it; ObjectNotFound when there is none."""
    row = await read_flow_run(connection, flow_run_id)
    if row is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
    return row


async def filter_flow_runs(
    connection: AsyncConnection, request: RunFilterSet, sort: FlowRunSort, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The runs matching the filters of `request`, in `sort` order, `limit` of them from `offset`."""
    condition = filters.flow_run_condition(request, dialect_of(connection))
    return await read_flow_runs(connection, condition, filters.flow_run_order_by(sort), limit, offset)


async def count_flow_runs_matching(connection: AsyncConnection, request: RunFilterSet) -> int:
    """How many runs match the filters of `request`."""
    return await count_flow_runs(connection, filters.flow_run_condition(request, dialect_of(connection)))


async def paginate_flow_runs(
    connection: AsyncConnection, request: FlowRunPaginateRequest, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Page `request.page` (of `limit` runs) of the runs matching `request`, and how many match in all."""
    condition = filters.flow_run_condition(request, dialect_of(connection))
    count = await count_flow_runs(connection, condition)
    order_by = filters.flow_run_order_by(request.sort)
    return await read_flow_runs(connection, condition, order_by, limit, (request.page - 1) * limit), count


async def read_flow_run_history(connection: AsyncConnection, request: FlowRunHistoryRequest) -> list[dict[str, Any]]:
    """Counts of the runs matching `request` per state in each of its time buckets."""
    condition = filters.flow_run_condition(request, dialect_of(connection))
    return await run_history(
        connection, "flow_run", request.history_start, request.history_end, request.interval_seconds, condition
    )


async def read_average_lateness(connection: AsyncConnection, request: RunFilterSet) -> float | None:
    """The mean lateness in seconds of the runs matching `request` (None when none match), as Prefect computes it:
    a started run is late by how much later than expected it started; a run not started and not finished whose
    expected start has passed, by how long ago that was; any other run counts as 0."""
    dialect = dialect_of(connection)
    now = utcnow()
    run = t.flow_run.c
    expected = dialect.epoch_seconds(run.expected_start_time)
    now_seconds = sa.literal(now.timestamp(), sa.Float)
    lateness = sa.case(
        (run.start_time > run.expected_start_time, dialect.epoch_seconds(run.start_time) - expected),
        (
            sa.and_(
                run.start_time.is_(None),
                run.state_type.not_in(TERMINAL_STATE_VALUES),
                run.expected_start_time < now,
            ),
            now_seconds - expected,
        ),
        else_=sa.literal(0.0, sa.Float),
    )
    query = sa.select(sa.func.avg(lateness)).where(filters.flow_run_condition(request, dialect))
    average = (await connection.execute(query)).scalar()
    return None if average is None else float(average)


async def update_flow_run(connection: AsyncConnection, flow_run_id: uuid.UUID, update: FlowRunUpdate) -> bool:
    """Apply the fields set in `update`; False when there is no such run."""
    values = update.model_dump(mode="json", exclude_unset=True)
    values = {key: value for key, value in values.items() if not (key == "name" and value is None)}
    result = await connection.execute(
        sa.update(t.flow_run).where(t.flow_run.c.id == flow_run_id).values(updated=utcnow(), **values)
    )
    return result.rowcount == 1


async def update_flow_run_labels(connection: AsyncConnection, flow_run_id: uuid.UUID, labels: dict[str, Any]) -> bool:
    """Merge `labels` into the run's labels; False when there is no such run."""
    row = (
        await connection.execute(sa.select(t.flow_run.c.labels).where(t.flow_run.c.id == flow_run_id).with_for_update())
    ).first()
    if row is None:
        return False
    current = row[0]
    merged = {**(current or {}), **labels}
    await connection.execute(
        sa.update(t.flow_run).where(t.flow_run.c.id == flow_run_id).values(labels=merged, updated=utcnow())
    )
    return True


async def delete_flow_run(connection: AsyncConnection, flow_run_id: uuid.UUID) -> bool:
    """Delete the run, its state history, task runs, inputs and logs; False when there is no such run."""
    await connection.execute(sa.delete(t.log).where(t.log.c.flow_run_id == flow_run_id))
    result = await connection.execute(sa.delete(t.flow_run).where(t.flow_run.c.id == flow_run_id))
    return result.rowcount == 1


async def read_flow_run_states(connection: AsyncConnection, flow_run_id: uuid.UUID) -> list[dict[str, Any]]:
    """The run's state history, oldest first."""
    query = (
        sa.select(t.flow_run_state)
        .where(t.flow_run_state.c.flow_run_id == flow_run_id)
        .order_by(t.flow_run_state.c.timestamp, t.flow_run_state.c.created)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_flow_run_state(connection: AsyncConnection, state_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.flow_run_state).where(t.flow_run_state.c.id == state_id))).mappings()
    first = row.first()
    return dict(first) if first else None


async def read_late_flow_run_ids(connection: AsyncConnection, scheduled_before: dt.datetime, limit: int) -> list[Any]:
    """Ids of runs still in the `Scheduled` state whose scheduled start is earlier than `scheduled_before`."""
    query = (
        sa.select(t.flow_run.c.id)
        .where(
            t.flow_run.c.state_type == "SCHEDULED",
            t.flow_run.c.state_name == default_state_name(StateType.SCHEDULED),
            t.flow_run.c.next_scheduled_start_time <= scheduled_before,
        )
        .order_by(t.flow_run.c.next_scheduled_start_time)
        .limit(limit)
    )
    return list((await connection.execute(query)).scalars())


async def read_next_scheduled_start_time(connection: AsyncConnection) -> dt.datetime | None:
    """The earliest scheduled start of the runs still in the `Scheduled` state (None: there are none)."""
    query = sa.select(sa.func.min(t.flow_run.c.next_scheduled_start_time)).where(
        t.flow_run.c.state_type == "SCHEDULED",
        t.flow_run.c.state_name == default_state_name(StateType.SCHEDULED),
    )
    return (await connection.execute(query)).scalar()

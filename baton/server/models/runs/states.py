"""Proposing states: read the run under a row lock, let the orchestration policy decide, persist what it decided.

The history row and the run's denormalised state columns are written by the same statement batch inside the
caller's write transaction, so an ACCEPT the client is told about is committed with its history (DESIGN.md 5.1).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import replace
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.concurrency.deployment_concurrency import (
    SLOT_HOLDING_STATES,
    read_deployment_concurrency,
    release_deployment_slot,
    renew_deployment_slot,
    take_deployment_slot,
)
from baton.server.models.runs.flow_runs import read_flow_run
from baton.server.models.runs.task_runs import read_parent_flow_run, read_task_run, read_task_run_for_transition
from baton.server.orchestration.context import RunSnapshot, TransitionContext, TransitionOutcome
from baton.server.orchestration.policies import orchestrate, subflow_parent_task_state
from baton.server.schemas.responses import current_state
from baton.server.schemas.states import StateCreate
from baton.states import StateType


class _NotPassed(enum.Enum):
    """The "not passed" value of an optional argument whose None is meaningful."""

    LOOK_UP = enum.auto()


_LOOK_UP: Final = _NotPassed.LOOK_UP

# Built once per table; the values come as bound parameters at execution.
_INSERT_HISTORY = {table.name: table.insert() for table in (t.flow_run_state, t.task_run_state)}
_UPDATE_RUN = {
    table.name: sa.update(table).where(table.c.id == sa.bindparam("run_id")) for table in (t.flow_run, t.task_run)
}


def run_as_written(row: dict[str, Any], outcome: TransitionOutcome) -> dict[str, Any]:
    """The run row as it stands after `outcome` was persisted, without reading it back."""
    state = outcome.state_to_write
    if state is None:
        return row
    return {
        **row,
        **outcome.run_updates,
        "state_message": state["message"],
        "state_details": state["state_details"],
        "state_data": state["data"],
    }


def _run_fields(row: dict[str, Any]) -> dict[str, Any]:
    """What flow and task runs share in a snapshot."""
    return {
        "id": row["id"],
        "current_state": current_state(row),
        "run_count": row["run_count"] or 0,
        "start_time": row["start_time"],
        "end_time": row["end_time"],
        "total_run_time": row["total_run_time"] or 0.0,
        "expected_start_time": row["expected_start_time"],
        "next_scheduled_start_time": row["next_scheduled_start_time"],
        "empirical_policy": dict(row["empirical_policy"] or {}),
    }


def flow_run_snapshot(row: dict[str, Any]) -> RunSnapshot:
    return RunSnapshot(
        kind="flow_run",
        **_run_fields(row),
        deployment_id=row["deployment_id"],
        parent_task_run_id=row["parent_task_run_id"],
        infrastructure_pid=row["infrastructure_pid"],
    )


def task_run_snapshot(row: dict[str, Any]) -> RunSnapshot:
    return RunSnapshot(
        kind="task_run",
        **_run_fields(row),
        flow_run_id=row["flow_run_id"],
        flow_run_run_count=row["flow_run_run_count"] or 0,
        cache_key=row["cache_key"],
    )


async def set_flow_run_state(
    connection: AsyncConnection,
    flow_run_id: uuid.UUID,
    proposed: StateCreate,
    *,
    force: bool = False,
    row: dict[str, Any] | None = None,
) -> TransitionOutcome:
    """Propose `proposed` for the flow run and persist the decision. `row` may be a run just inserted in this
    transaction (it is then already locked). Raises ObjectNotFound for an unknown run."""
    if row is None:
        row = await read_flow_run(connection, flow_run_id, for_update=True)
        if row is None:
            raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
    now = utcnow()
    context = TransitionContext(run=flow_run_snapshot(row), proposed=proposed, force=force, now=now)
    if not force and proposed.type == StateType.PENDING and row["deployment_id"] is not None:
        context = replace(
            context, deployment_concurrency=await read_deployment_concurrency(connection, row["deployment_id"])
        )
    outcome = orchestrate(context)
    outcome = await _deployment_slot(connection, flow_run_id, row, context, outcome)
    if outcome.state_to_write is None:
        return outcome
    await _write_state(connection, t.flow_run, t.flow_run_state, "flow_run_id", flow_run_id, outcome, now)
    if outcome.run_input_keys_to_delete:
        # A resumed or re-paused run drops the inputs its earlier pause registered (schema and description).
        await connection.execute(
            sa.delete(t.flow_run_input).where(
                t.flow_run_input.c.flow_run_id == flow_run_id,
                t.flow_run_input.c.key.in_(outcome.run_input_keys_to_delete),
            )
        )
    parent_task_run_id = row["parent_task_run_id"]
    if parent_task_run_id is not None:
        await _copy_state_to_parent_task(connection, parent_task_run_id, outcome.state_to_write, flow_run_id)
    return outcome


async def _deployment_slot(
    connection: AsyncConnection,
    flow_run_id: uuid.UUID,
    row: dict[str, Any],
    context: TransitionContext,
    outcome: TransitionOutcome,
) -> TransitionOutcome:
    """Deployment concurrency around a decided transition: take a slot for a run becoming PENDING (decided again
    without one when the limit is full), renew it as the run starts RUNNING, release it when the run leaves the
    slot-holding states."""
    state = outcome.state_to_write
    if state is None:
        return outcome
    details = state["state_details"]
    concurrency = context.deployment_concurrency
    initial_type = row["state_type"]
    if concurrency is not None and state["type"] == StateType.PENDING and initial_type not in SLOT_HOLDING_STATES:
        lease_id = await take_deployment_slot(connection, concurrency, flow_run_id)
        if lease_id is None:
            return orchestrate(replace(context, deployment_concurrency=replace(concurrency, slot_available=False)))
        details["deployment_concurrency_lease_id"] = str(lease_id)
        return outcome
    held = (row.get("state_details") or {}).get("deployment_concurrency_lease_id")
    if held is None or initial_type not in SLOT_HOLDING_STATES:
        return outcome
    if state["type"] not in SLOT_HOLDING_STATES:
        await release_deployment_slot(connection, uuid.UUID(str(held)), row["deployment_id"], context.now)
    elif state["type"] == StateType.RUNNING and initial_type == StateType.PENDING:
        await renew_deployment_slot(connection, uuid.UUID(str(held)), None)
    return outcome


async def set_task_run_state(
    connection: AsyncConnection,
    task_run_id: uuid.UUID,
    proposed: StateCreate,
    *,
    force: bool = False,
    row: dict[str, Any] | None = None,
    parent_flow_run: dict[str, Any] | None | _NotPassed = _LOOK_UP,
) -> TransitionOutcome:
    """Propose `proposed` for the task run and persist the decision. Raises ObjectNotFound for an unknown run.
    `parent_flow_run` may be passed when the caller has just read it (`read_parent_flow_run`)."""
    if row is None:
        found = await read_task_run_for_transition(connection, task_run_id)
        if found is None:
            raise ObjectNotFound(f"Task run {task_run_id} does not exist.")
        row, parent_flow_run = found
    now = utcnow()
    context = TransitionContext(
        run=task_run_snapshot(row),
        proposed=proposed,
        force=force,
        now=now,
        parent_flow_run=(
            await read_parent_flow_run(connection, row["flow_run_id"])
            if parent_flow_run is _LOOK_UP
            else parent_flow_run
        ),
        cached_state=await _cached_state(connection, proposed, now),
    )
    outcome = orchestrate(context)
    if outcome.state_to_write is None:
        return outcome
    await _write_state(connection, t.task_run, t.task_run_state, "task_run_id", task_run_id, outcome, now)
    if outcome.cache_insert is not None:
        await connection.execute(
            sa.insert(t.task_run_state_cache).values(
                id=uuid.uuid4(),
                created=now,
                updated=now,
                cache_key=outcome.cache_insert["cache_key"],
                cache_expiration=outcome.cache_insert.get("cache_expiration"),
                task_run_state_id=outcome.state_to_write["id"],
            )
        )
    return outcome


async def _write_state(
    connection: AsyncConnection,
    run_table: sa.Table,
    history_table: sa.Table,
    run_column: str,
    run_id: uuid.UUID,
    outcome: TransitionOutcome,
    now: dt.datetime,
) -> None:
    state = outcome.state_to_write
    assert state is not None
    await connection.execute(
        _INSERT_HISTORY[history_table.name],
        {
            "id": state["id"],
            "created": now,
            "updated": now,
            "type": state["type"],
            "name": state["name"],
            "timestamp": state["timestamp"],
            "message": state["message"],
            "data": state["data"],
            "state_details": state["state_details"],
            run_column: run_id,
        },
    )
    outcome.run_updates["updated"] = now
    await connection.execute(_UPDATE_RUN[run_table.name], {"run_id": run_id, **outcome.run_updates})


async def _copy_state_to_parent_task(
    connection: AsyncConnection, task_run_id: uuid.UUID, state: dict[str, Any], flow_run_id: uuid.UUID
) -> None:
    """A subflow's state is mirrored onto the task run that tracks it in the parent flow (Prefect's
    UpdateSubflowParentTask). The tracking task may not be recorded yet (it can arrive by events); then skip."""
    row = await read_task_run(connection, task_run_id, for_update=True)
    if row is None:
        return
    await set_task_run_state(
        connection, task_run_id, subflow_parent_task_state(state, flow_run_id), force=True, row=row
    )


async def _cached_state(connection: AsyncConnection, proposed: StateCreate, now: dt.datetime) -> dict[str, Any] | None:
    """The newest unexpired cached COMPLETED state for the proposed cache key, when the task asks to run."""
    details = proposed.state_details
    if proposed.type != StateType.RUNNING or not details.cache_key or details.refresh_cache:
        return None
    cache = t.task_run_state_cache
    query = (
        sa.select(t.task_run_state)
        .join(cache, cache.c.task_run_state_id == t.task_run_state.c.id)
        .where(
            cache.c.cache_key == details.cache_key,
            sa.or_(cache.c.cache_expiration.is_(None), cache.c.cache_expiration > now),
        )
        .order_by(cache.c.created.desc())
        .limit(1)
    )
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None

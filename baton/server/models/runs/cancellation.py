"""Cancelling what a cancelled flow run leaves behind: its unfinished task runs and subflow runs (Prefect's
cancellation cleanup)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.runs.flow_runs import read_flow_run
from baton.server.models.runs.states import set_flow_run_state, set_task_run_state
from baton.server.orchestration.context import TransitionOutcome
from baton.server.schemas.states import StateCreate
from baton.states import TERMINAL_STATE_TYPES, TERMINAL_STATE_VALUES, StateType


def _unfinished(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    return sa.or_(column.is_(None), column.not_in(TERMINAL_STATE_VALUES))


async def cancel_child_runs(
    connection: AsyncConnection, flow_run_id: uuid.UUID
) -> tuple[int, list[tuple[uuid.UUID, TransitionOutcome]]]:
    """Cancel the unfinished task runs and subflow runs of a flow run that is Cancelled (nothing otherwise).

    Returns how many task runs were cancelled and the (subflow id, outcome) of each subflow moved, whose own
    children are the caller's to cancel next (through the subflow's state-change event)."""
    parent = await read_flow_run(connection, flow_run_id)
    if parent is None or parent["state_type"] != StateType.CANCELLED:
        return 0, []
    message = f"The parent flow run {parent['name']!r} was cancelled."
    task = t.task_run.c
    task_ids = sa.select(task.id).where(task.flow_run_id == flow_run_id)
    subflow_ids = (
        await connection.execute(
            sa.select(t.flow_run.c.id).where(
                t.flow_run.c.parent_task_run_id.in_(task_ids), _unfinished(t.flow_run.c.state_type)
            )
        )
    ).scalars()
    subflows: list[tuple[uuid.UUID, TransitionOutcome]] = []
    for subflow_id in list(subflow_ids):
        row = await read_flow_run(connection, subflow_id, for_update=True)
        if row is None or row["state_type"] in TERMINAL_STATE_TYPES:
            continue
        outcome = await set_flow_run_state(
            connection, subflow_id, StateCreate(type=StateType.CANCELLED, message=message), force=True, row=row
        )
        subflows.append((subflow_id, outcome))
    unfinished = (
        await connection.execute(
            sa.select(task.id).where(task.flow_run_id == flow_run_id, _unfinished(task.state_type))
        )
    ).scalars()
    cancelled = 0
    for task_run_id in list(unfinished):
        outcome = await set_task_run_state(
            connection, task_run_id, StateCreate(type=StateType.CANCELLED, message=message), force=True
        )
        cancelled += outcome.state_to_write is not None
    return cancelled, subflows

"""Flow-run actions on the run the trigger is about: change its state (cancel, suspend, or any state), resume it,
delete it. State changes go through the orchestration rules as the API's `set_state` does, and are announced as the
API announces them (their event, notifications, concurrency release and child cancellation follow)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.actors.state_changes import state_change
from baton.errors import ObjectNotFound
from baton.server.automations.actions.base import ActionContext, ActionFailed
from baton.server.database.types import utcnow
from baton.server.models.runs import flow_runs
from baton.server.models.runs.flow_run_inputs import resume_flow_run as resume_run
from baton.server.models.runs.states import set_flow_run_state
from baton.server.orchestration.context import TransitionOutcome
from baton.server.schemas.automations import (
    CancelFlowRun,
    ChangeFlowRunState,
    DeleteFlowRun,
    ResumeFlowRun,
    SuspendFlowRun,
)
from baton.server.schemas.states import StateCreate, StateDetails
from baton.states import StateType

FLOW_RUN_KIND = "prefect.flow-run"
# Prefect's suspend-flow-run action suspends for an hour.
SUSPEND_TIMEOUT = dt.timedelta(hours=1)


def _flow_run_id(context: ActionContext) -> uuid.UUID:
    run_id = context.inferred_id(FLOW_RUN_KIND, "flow run")
    context.target(f"{FLOW_RUN_KIND}.{run_id}")
    return run_id


def _accepted(context: ActionContext, run_id: uuid.UUID, outcome: TransitionOutcome, failure: str) -> None:
    context.details["status"] = outcome.status
    if outcome.status != "ACCEPT":
        raise ActionFailed(f"{failure}: {outcome.reason or outcome.status}")
    change = state_change(run_id, outcome)
    if change is not None:
        context.state_changes.append(change)


async def _set_state(
    connection: AsyncConnection, context: ActionContext, proposed: StateCreate, *, force: bool = False
) -> None:
    run_id = _flow_run_id(context)
    try:
        outcome = await set_flow_run_state(connection, run_id, proposed, force=force)
    except ObjectNotFound:
        raise ActionFailed(f"Flow run {run_id} was not found") from None
    _accepted(context, run_id, outcome, "Failed to set state")


async def change_flow_run_state(
    connection: AsyncConnection, context: ActionContext, action: ChangeFlowRunState
) -> None:
    message = action.message or f"State changed by Automation {context.automation_id}"
    proposed = StateCreate(type=action.state, name=action.name, message=message)
    await _set_state(connection, context, proposed, force=action.force)


async def cancel_flow_run(connection: AsyncConnection, context: ActionContext, action: CancelFlowRun) -> None:
    proposed = StateCreate(type=StateType.CANCELLING, message=f"Cancelled by Automation {context.automation_id}")
    await _set_state(connection, context, proposed)


async def suspend_flow_run(connection: AsyncConnection, context: ActionContext, action: SuspendFlowRun) -> None:
    proposed = StateCreate(
        type=StateType.PAUSED,
        name="Suspended",
        message=f"Suspended by Automation {context.automation_id}",
        state_details=StateDetails(pause_timeout=utcnow() + SUSPEND_TIMEOUT, pause_reschedule=True),
    )
    await _set_state(connection, context, proposed)


async def resume_flow_run(connection: AsyncConnection, context: ActionContext, action: ResumeFlowRun) -> None:
    run_id = _flow_run_id(context)
    try:
        resumed = await resume_run(connection, run_id, None)
    except ObjectNotFound:
        raise ActionFailed(f"Flow run {run_id} was not found") from None
    if resumed.outcome is None:
        reason = (resumed.body.get("details") or {}).get("reason") or resumed.body.get("status")
        raise ActionFailed(f"Failed to resume flow run: {reason}")
    _accepted(context, run_id, resumed.outcome, "Failed to resume flow run")


async def delete_flow_run(connection: AsyncConnection, context: ActionContext, action: DeleteFlowRun) -> None:
    run_id = _flow_run_id(context)
    if not await flow_runs.delete_flow_run(connection, run_id):
        raise ActionFailed(f"Flow run {run_id} was not found")

"""Policies (ordered rule lists) and the orchestration entry point.

`orchestrate` decides a proposed state the way Prefect 3.9's server does: pick a policy, let its rules that match the
(current type, proposed type) pair act in order, apply the global transforms, then settle the rules in reverse order.
A rule that changes the proposed type (reject with another state, wait, abort) makes the later rules inapplicable.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from baton.server.orchestration import flow_rules as fr
from baton.server.orchestration import task_rules as tr
from baton.server.orchestration.context import (
    Rule,
    RunFields,
    RunSnapshot,
    Transition,
    TransitionContext,
    TransitionOutcome,
    WorkingState,
)
from baton.server.orchestration.transforms import FLOW_TRANSFORMS, TASK_TRANSFORMS, Transform, apply_transforms
from baton.server.schemas.states import StateCreate, StateDetails
from baton.states import RESUMING, StateType

Policy = list[type[Rule]]

CORE_FLOW_POLICY: Policy = [
    fr.PreserveDeploymentConcurrencyLeaseId,
    fr.PreventDuplicateTransitions,
    fr.HandleFlowTerminalStateTransitions,
    fr.EnforceCancellingToCancelledTransition,
    fr.BypassCancellingFlowRunsWithNoInfra,
    fr.PreventPendingTransitions,
    fr.SecureFlowConcurrencySlots,
    fr.EnsureOnlyScheduledFlowsMarkedLate,
    fr.HandlePausingFlows,
    fr.HandleResumingPausedFlows,
    fr.CopyScheduledTime,
    fr.WaitForScheduledTime,
    fr.RetryFailedFlows,
]

# force=True: only what protects data or has no infrastructure to act on.
MINIMAL_FLOW_POLICY: Policy = [
    fr.PreserveDeploymentConcurrencyLeaseId,
    fr.PreventResultDataLoss,
    fr.BypassCancellingFlowRunsWithNoInfra,
]

CORE_TASK_POLICY: Policy = [
    tr.CacheRetrieval,
    tr.HandleTaskTerminalStateTransitions,
    tr.PreventRunningTasksFromStoppedFlows,
    # Tag concurrency slots are handled by the concurrency module.
    fr.CopyScheduledTime,
    fr.WaitForScheduledTime,
    tr.RetryFailedTasks,
    tr.RenameReruns,
    tr.UpdateFlowRunTrackerOnTasks,
    tr.CacheInsertion,
]

# force=True on a task run: only the global bookkeeping.
MINIMAL_TASK_POLICY: Policy = []

# Deferred task runs (`task.delay()`), served to task workers.
BACKGROUND_TASK_POLICY: Policy = [
    fr.PreventPendingTransitions,
    tr.CacheRetrieval,
    tr.HandleTaskTerminalStateTransitions,
    fr.CopyScheduledTime,
    tr.CopyTaskParametersID,
    fr.WaitForScheduledTime,
    tr.RetryFailedTasks,
    tr.RenameReruns,
    tr.UpdateFlowRunTrackerOnTasks,
    tr.CacheInsertion,
    tr.EnqueueScheduledTasks,
]


def select_policy(context: TransitionContext) -> Policy:
    """The rule list for this proposal: a deferred task's state always gets the background policy, even forced."""
    if context.run.kind == "flow_run":
        return MINIMAL_FLOW_POLICY if context.force else CORE_FLOW_POLICY
    if context.proposed.state_details.deferred:
        return BACKGROUND_TASK_POLICY
    return MINIMAL_TASK_POLICY if context.force else CORE_TASK_POLICY


def orchestrate(context: TransitionContext) -> TransitionOutcome:
    """Decide `context.proposed` for `context.run`. Pure: reads nothing and writes nothing."""
    current = context.run.current_state
    t = Transition(
        context=context,
        initial=WorkingState.from_row(current) if current is not None else None,
        proposed=WorkingState.from_create(context.proposed, context.now),
        run=RunFields.from_snapshot(context.run),
    )
    transforms: list[Transform] = FLOW_TRANSFORMS if context.run.kind == "flow_run" else TASK_TRANSFORMS
    entered = _enter_rules(t, select_policy(context))
    apply_transforms(t, transforms)
    for rule, expected_type in reversed(entered):
        if t.proposed_type == expected_type:
            rule.after(t)
        else:
            rule.cleanup(t)
    return _outcome(t)


def _enter_rules(t: Transition, policy: Policy) -> list[tuple[Rule, StateType | None]]:
    """Run `before` of each applicable rule; return them with the proposed type each expects to see settled."""
    from_type, to_type = t.initial_type, t.proposed_type
    entered: list[tuple[Rule, StateType | None]] = []
    for rule_class in policy:
        if from_type not in rule_class.FROM_STATES or to_type not in rule_class.TO_STATES:
            continue
        if t.proposed_type != to_type:
            # An earlier rule changed the transition; this rule was chosen for the original one.
            continue
        rule = rule_class()
        rule.before(t)
        # A rule that itself changes the transition owns the change and does not undo itself.
        entered.append((rule, t.proposed_type))
    return entered


def _outcome(t: Transition) -> TransitionOutcome:
    context = t.context
    if t.proposed is None:
        current = context.run.current_state
        return TransitionOutcome(
            status=t.status,
            reason=t.reason,
            delay_seconds=t.delay_seconds,
            state_to_write=None,
            response_state=dict(current) if current is not None else None,
            run_updates={},
        )
    row = t.proposed.as_row()
    run = t.run
    run_updates: dict[str, Any] = {
        "state_id": row["id"],
        "state_type": row["type"],
        "state_name": row["name"],
        "state_timestamp": row["timestamp"],
        "run_count": run.run_count,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "total_run_time": run.total_run_time,
        "expected_start_time": run.expected_start_time,
        "next_scheduled_start_time": run.next_scheduled_start_time,
        "empirical_policy": run.empirical_policy,
    }
    if context.run.kind == "task_run":
        run_updates["flow_run_run_count"] = run.flow_run_run_count
    return TransitionOutcome(
        status=t.status,
        reason=t.reason,
        delay_seconds=t.delay_seconds,
        state_to_write=row,
        response_state=dict(row),
        run_updates=run_updates,
        cache_insert=t.cache_insert,
        run_input_keys_to_delete=list(t.run_input_keys_to_delete),
        task_queue_action=t.task_queue_action,
        initial_state=context.run.current_state,
    )


def subflow_parent_task_state(flow_run_state: dict[str, Any], flow_run_id: uuid.UUID) -> StateCreate:
    """The copy of a subflow's new state to force onto the task run that tracks it in the parent flow
    (Prefect's UpdateSubflowParentTask). The task run's own references are stamped when it is orchestrated."""
    details = StateDetails.model_validate(flow_run_state.get("state_details") or {})
    details.child_flow_run_id = flow_run_id
    details.task_run_id = None
    return StateCreate(
        type=StateType(flow_run_state["type"]),
        name=flow_run_state.get("name"),
        message=flow_run_state.get("message"),
        data=flow_run_state.get("data"),
        state_details=details,
    )


def resume_proposal(run: RunSnapshot, now: dt.datetime) -> StateCreate:
    """The state `POST /flow_runs/{id}/resume` proposes for a paused run: Scheduled "Resuming" (at `now`) when it was
    suspended (its infrastructure is gone), else Running. Raises ValueError when the run is not PAUSED."""
    current = run.current_state
    if current is None or StateType(current["type"]) != StateType.PAUSED:
        raise ValueError("Cannot resume a flow run that is not paused.")
    details = StateDetails.model_validate(current.get("state_details") or {})
    if details.pause_reschedule:
        return StateCreate(type=StateType.SCHEDULED, name=RESUMING, state_details=StateDetails(scheduled_time=now))
    return StateCreate(type=StateType.RUNNING)

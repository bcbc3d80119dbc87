"""Rules for flow run transitions (Prefect's CoreFlowPolicy and MinimalFlowPolicy).

`PreventPendingTransitions`, `CopyScheduledTime` and `WaitForScheduledTime` also govern task runs.
Deployment concurrency: `SecureFlowConcurrencySlots` decides on a slot the caller tried to take (the database work,
taking the slot with a lease, renewing it at RUNNING and releasing it when the run stops holding it, is in
`models/concurrency/deployment_concurrency.py`); RemoveDeploymentConcurrencyLeaseForOldClientVersions has no
counterpart, as Baton's leases do not depend on the client's version.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

from baton.server.orchestration.context import ALL_STATES, TERMINAL_STATES, Rule, Transition, WorkingState
from baton.server.schemas.states import StateDetails
from baton.states import (
    AWAITING_CONCURRENCY_SLOT,
    AWAITING_RETRY,
    LATE,
    RESUMING,
    SUSPENDED,
    StateType,
    default_state_name,
)

S = StateType


def has_persisted_result(data: Any) -> bool:
    """Whether state data is result metadata of a persisted result (anything but an "unpersisted" marker)."""
    return isinstance(data, dict) and data.get("type") != "unpersisted"


def _is_completed_with_persisted_result(state: WorkingState) -> bool:
    return state.type == S.COMPLETED and bool(state.data) and has_persisted_result(state.data)


_OVERWRITE_RESULT_REASON = (
    "Cannot overwrite a COMPLETED state that carries persisted result data with one that does not."
)


class PreserveDeploymentConcurrencyLeaseId(Rule):
    """Workers send `deployment_concurrency_lease_id: null`; keep the lease the run already holds."""

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        lease_id = t.initial.details.deployment_concurrency_lease_id
        if lease_id is not None and t.proposed.details.deployment_concurrency_lease_id is None:
            t.proposed.details.deployment_concurrency_lease_id = lease_id


class PreventDuplicateTransitions(Rule):
    """A retried request (same `transition_id` as the current state) gets the current state back."""

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        current_id = t.initial.details.transition_id
        if current_id is not None and current_id == t.proposed.details.transition_id:
            t.reject(None, "This run has already made this state transition.")


class HandleFlowTerminalStateTransitions(Rule):
    """Leaving a terminal state is a manual rerun: allowed unless it would lose a persisted result, mark a finished
    run crashed/paused/cancelling, or reschedule a run that no deployment can pick up. Pause bookkeeping restarts."""

    FROM_STATES = TERMINAL_STATES

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        self.original_policy = dict(t.run.empirical_policy)
        initial, proposed = t.initial, t.proposed
        if proposed.type in {S.CANCELLING, S.PAUSED, S.CRASHED}:
            t.abort(f"Run is already in terminal state {initial.type.value}.")
            return
        if _is_completed_with_persisted_result(initial) and not proposed.is_final:
            t.reject(None, "Run is already COMPLETED.")
            return
        if (
            _is_completed_with_persisted_result(initial)
            and proposed.type == S.COMPLETED
            and not has_persisted_result(proposed.data)
        ):
            t.reject(None, _OVERWRITE_RESULT_REASON)
            return
        if proposed.type == S.SCHEDULED and t.snapshot.deployment_id is None:
            t.abort("Cannot reschedule a run without an associated deployment.")
            return
        if not proposed.is_final:
            policy = t.run.empirical_policy
            policy["resuming"] = False
            policy["pause_keys"] = []
            policy["retry_type"] = "reschedule" if proposed.type == S.SCHEDULED else None

    def cleanup(self, t: Transition) -> None:
        if hasattr(self, "original_policy"):
            t.run.empirical_policy = self.original_policy


class PreventResultDataLoss(Rule):
    """Even a forced COMPLETED -> COMPLETED may not drop a persisted result."""

    FROM_STATES = TERMINAL_STATES
    TO_STATES = TERMINAL_STATES

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        if (
            _is_completed_with_persisted_result(t.initial)
            and t.proposed.type == S.COMPLETED
            and not has_persisted_result(t.proposed.data)
        ):
            t.reject(None, _OVERWRITE_RESULT_REASON)


class EnforceCancellingToCancelledTransition(Rule):
    """A cancelling run can only become Cancelled."""

    FROM_STATES = frozenset({S.CANCELLING})
    TO_STATES = ALL_STATES - {S.CANCELLED}

    def before(self, t: Transition) -> None:
        t.reject(None, "Cannot transition flows that are cancelling to a state other than Cancelled.")


class BypassCancellingFlowRunsWithNoInfra(Rule):
    """Cancelling exists to tear down infrastructure; a run without any (not started yet, or suspended) is
    Cancelled directly."""

    FROM_STATES = frozenset({S.SCHEDULED, S.PAUSED})
    TO_STATES = frozenset({S.CANCELLING})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        if (t.initial.type == S.SCHEDULED and not t.snapshot.infrastructure_pid) or t.initial.name == RESUMING:
            t.reject(WorkingState.new(S.CANCELLED, t.now), "Scheduled flow run has no infrastructure to terminate.")
        elif t.initial.type == S.PAUSED and t.initial.details.pause_reschedule:
            t.reject(WorkingState.new(S.CANCELLED, t.now), "Suspended flow run has no infrastructure to terminate.")


class PreventPendingTransitions(Rule):
    """Two workers submitting the same run: the second one's PENDING is aborted. PENDING -> PENDING is allowed only
    as progress to a named sub-state (Submitting, InfrastructurePending)."""

    FROM_STATES = frozenset({S.PENDING, S.CANCELLING, S.RUNNING, S.CANCELLED})
    TO_STATES = frozenset({S.PENDING})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        if (
            t.initial.type == S.PENDING
            and t.initial.name != t.proposed.name
            and t.proposed.name != default_state_name(S.PENDING)
        ):
            t.proposed.details.scheduled_time = t.initial.details.scheduled_time
            t.proposed.details.deployment_concurrency_lease_id = t.initial.details.deployment_concurrency_lease_id
            return
        t.abort(f"This run is in a {t.initial.type.name} state and cannot transition to a PENDING state.")


# Seconds a run that found its deployment's limit full waits before it is proposed again (Prefect's
# PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS).
DEPLOYMENT_SLOT_WAIT_SECONDS = 30.0


class SecureFlowConcurrencySlots(Rule):
    """A deployment run may become PENDING only with a slot of its deployment's concurrency limit. Without one it
    waits as AwaitingConcurrencySlot (collision strategy ENQUEUE) or is Cancelled (CANCEL_NEW); a limit of 0 would
    never let it run, so the proposal is aborted."""

    FROM_STATES = ALL_STATES - {S.PENDING, S.RUNNING, S.CANCELLING}
    TO_STATES = frozenset({S.PENDING})

    def before(self, t: Transition) -> None:
        limit = t.context.deployment_concurrency
        if limit is None or t.proposed is None:
            return
        if limit.limit == 0:
            t.abort("The deployment concurrency limit is 0. The flow will deadlock if submitted again.")
            return
        if limit.slot_available:
            return
        reason = "Deployment concurrency limit reached."
        if limit.collision_strategy == "CANCEL_NEW":
            t.reject(WorkingState.new(S.CANCELLED, t.now, message=reason), reason)
            return
        wait_until = t.now + dt.timedelta(seconds=DEPLOYMENT_SLOT_WAIT_SECONDS)
        waiting = WorkingState.new(
            S.SCHEDULED, t.now, name=AWAITING_CONCURRENCY_SLOT, details=StateDetails(scheduled_time=wait_until)
        )
        t.reject(waiting, reason)


class EnsureOnlyScheduledFlowsMarkedLate(Rule):
    TO_STATES = frozenset({S.SCHEDULED})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None or t.proposed.name != LATE:
            return
        if t.initial.type != S.SCHEDULED:
            t.reject(None, "Only scheduled flows can be marked late.")
        elif t.initial.name == LATE:
            t.reject(None, "This flow run is already marked late.")


class HandlePausingFlows(Rule):
    """Only a running flow may pause, each pause key fires once, and only a deployed top-level flow may suspend
    (its infrastructure is torn down, so something must restart it)."""

    TO_STATES = frozenset({S.PAUSED})

    def before(self, t: Transition) -> None:
        if t.proposed is None:
            return
        verb = "suspend" if t.proposed.name == SUSPENDED else "pause"
        if t.initial is None:
            t.abort(f"Cannot {verb} flows with no state.")
            return
        if t.initial.type != S.RUNNING:
            t.reject(None, f"Cannot {verb} flows that are not currently running.")
            return
        self.key = t.proposed.details.pause_key or str(uuid.uuid4())
        if self.key in (t.run.empirical_policy.get("pause_keys") or []):
            t.reject(None, f"This {verb} has already fired.")
            return
        if t.proposed.details.pause_reschedule:
            if t.snapshot.parent_task_run_id is not None:
                t.abort(f"Cannot {verb} subflows.")
            elif t.snapshot.deployment_id is None:
                t.abort(f"Cannot {verb} flows without a deployment.")

    def after(self, t: Transition) -> None:
        if t.proposed is None:
            return
        pause_keys = list(t.run.empirical_policy.get("pause_keys") or [])
        if self.key not in pause_keys:
            pause_keys.append(self.key)
        t.run.empirical_policy["pause_keys"] = pause_keys
        # This pause has not fired on this attempt, so inputs under its keys belong to an earlier attempt.
        keyset = t.proposed.details.run_input_keyset
        if keyset:
            t.run_input_keys_to_delete.extend(keyset.values())


class HandleResumingPausedFlows(Rule):
    """A paused run may only resume (RUNNING), be rescheduled, cancelled or finished, and not after its pause
    deadline; resuming is flagged so the next RUNNING does not count as a new attempt."""

    FROM_STATES = frozenset({S.PAUSED})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        initial, proposed = t.initial, t.proposed
        if not (proposed.type in {S.RUNNING, S.SCHEDULED, S.CANCELLING} or proposed.is_final):
            t.reject(
                None,
                f"This run cannot transition to the {proposed.type.value} state from the {initial.type.value} state.",
            )
            return
        verb = "suspend" if proposed.name == SUSPENDED else "pause"
        display_name = proposed.name.lower() if proposed.name else proposed.type.value.lower()
        if initial.details.pause_reschedule and t.snapshot.deployment_id is None:
            t.reject(None, f"Cannot reschedule a {display_name} flow run without a deployment.")
            return
        if proposed.type == S.CANCELLING:
            # Cancellation must reach a blocking pause's process even after the deadline.
            return
        pause_timeout = initial.details.pause_timeout
        if pause_timeout is not None and pause_timeout < t.now:
            t.reject(
                WorkingState.new(S.FAILED, t.now, message=f"The flow was {display_name} and never resumed."),
                f"The flow run {verb} has timed out and can no longer resume.",
            )

    def after(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        policy = t.run.empirical_policy
        if not t.initial.details.pause_reschedule and t.proposed.type == S.SCHEDULED:
            # Leaving a blocking pause for a schedule starts a new attempt from the top: pauses fire again.
            policy["resuming"] = False
            policy["pause_keys"] = []
            policy["retry_type"] = "reschedule"
        else:
            policy["resuming"] = True


class CopyScheduledTime(Rule):
    """SCHEDULED -> PENDING keeps the scheduled time unless the proposal brings its own."""

    FROM_STATES = frozenset({S.SCHEDULED})
    TO_STATES = frozenset({S.PENDING})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        if t.proposed.details.scheduled_time is None:
            t.proposed.details.scheduled_time = t.initial.details.scheduled_time


def seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    """Whole seconds from `now` to `moment`, rounded to the nearest second as Prefect does (WAIT carries an int)."""
    delay = moment - now
    return math.floor(delay.total_seconds()) + round(delay.microseconds / 1e6)


class WaitForScheduledTime(Rule):
    """A run may not start before its scheduled time by the server's clock: the client is told to wait."""

    FROM_STATES = frozenset({S.SCHEDULED, S.PENDING})
    TO_STATES = frozenset({S.RUNNING})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        scheduled_time = t.initial.details.scheduled_time
        if scheduled_time is None:
            return
        delay_seconds = seconds_until(scheduled_time, t.now)
        if delay_seconds > 0:
            t.delay(delay_seconds, "Scheduled time is in the future")


class RetryFailedFlows(Rule):
    """A failed attempt with retries left becomes AwaitingRetry; the client then proposes RUNNING again in the same
    process."""

    FROM_STATES = frozenset({S.RUNNING})
    TO_STATES = frozenset({S.FAILED})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        policy = t.run.empirical_policy
        retries = _flow_retries(policy)
        if retries is None or t.run.run_count > retries:
            # Leaves room for a later infrastructure-level retry (for example from the UI).
            policy["retry_type"] = None
            return
        policy["resuming"] = False
        policy["pause_keys"] = []
        policy["retry_type"] = "in_process"
        retry_state = WorkingState.new(
            S.SCHEDULED,
            t.now,
            name=AWAITING_RETRY,
            message=t.proposed.message,
            data=t.proposed.data,
            details=StateDetails(
                scheduled_time=t.now + dt.timedelta(seconds=_flow_retry_delay(policy)),
                # The engine keeps renewing its deployment lease across an in-process retry.
                deployment_concurrency_lease_id=t.initial.details.deployment_concurrency_lease_id,
            ),
        )
        t.reject(retry_state, "Retrying")


def _flow_retries(policy: dict[str, Any]) -> int | None:
    """`retries`, falling back to the deprecated `max_retries` as Prefect's FlowRunPolicy does."""
    if not policy.get("retries") and policy.get("max_retries"):
        return int(policy["max_retries"])
    retries = policy.get("retries")
    return None if retries is None else int(retries)


def _flow_retry_delay(policy: dict[str, Any]) -> float:
    if not policy.get("retry_delay") and policy.get("retry_delay_seconds"):
        return float(policy["retry_delay_seconds"])
    return float(policy.get("retry_delay") or 0)

"""Flow run orchestration: each rule of the core and minimal policies, and the global bookkeeping."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from prefect.client.schemas.responses import OrchestrationResult as ClientOrchestrationResult

from baton.server.orchestration.context import RunSnapshot, TransitionContext, TransitionOutcome
from baton.server.orchestration.policies import orchestrate, resume_proposal, subflow_parent_task_state
from baton.server.schemas.states import StateCreate, StateDetails
from baton.states import StateType

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
EARLIER = NOW - dt.timedelta(minutes=1)
PERSISTED = {"storage_key": "/results/abc", "serializer": {"type": "pickle"}, "prefect_version": "3.9.1"}


def state_row(
    state_type: str,
    name: str | None = None,
    *,
    timestamp: dt.datetime = EARLIER,
    details: dict[str, Any] | None = None,
    data: Any = None,
    message: str | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "type": state_type,
        "name": name or state_type.capitalize(),
        "timestamp": timestamp,
        "message": message,
        "data": data,
        "state_details": details or {},
    }


def flow_run(current: dict[str, Any] | None = None, **fields: Any) -> RunSnapshot:
    values: dict[str, Any] = {
        "kind": "flow_run",
        "id": uuid.uuid4(),
        "current_state": current,
        "run_count": 0,
        "start_time": None,
        "end_time": None,
        "total_run_time": 0.0,
        "expected_start_time": None,
        "next_scheduled_start_time": None,
        "empirical_policy": {},
    }
    values.update(fields)
    return RunSnapshot(**values)


def propose(
    run: RunSnapshot,
    state_type: str,
    name: str | None = None,
    *,
    now: dt.datetime = NOW,
    force: bool = False,
    details: dict[str, Any] | None = None,
    message: str | None = None,
    data: Any = None,
) -> TransitionOutcome:
    proposed = StateCreate(
        type=StateType(state_type),
        name=name,
        message=message,
        data=data,
        state_details=StateDetails.model_validate(details or {}),
    )
    return orchestrate(TransitionContext(run=run, proposed=proposed, force=force, now=now))


def apply(run: RunSnapshot, outcome: TransitionOutcome) -> RunSnapshot:
    """What the caller persists, in memory: the written state becomes current and the run columns change."""
    if outcome.state_to_write is None:
        return run
    updates = {k: v for k, v in outcome.run_updates.items() if not k.startswith("state_")}
    return dataclasses.replace(run, current_state=outcome.state_to_write, **updates)


def assert_kept_current(run: RunSnapshot, outcome: TransitionOutcome) -> None:
    assert outcome.state_to_write is None
    assert outcome.run_updates == {}
    assert outcome.status_code == 200
    assert outcome.response_state == run.current_state


# Global bookkeeping


def test_first_state_is_written_with_server_fields() -> None:
    run = flow_run()
    outcome = propose(run, "PENDING", force=True)

    assert outcome.status == "ACCEPT"
    assert outcome.status_code == 201
    written = outcome.state_to_write
    assert written is not None
    assert written["type"] == "PENDING"
    assert written["name"] == "Pending"
    assert written["timestamp"] == NOW
    assert written["state_details"]["flow_run_id"] == str(run.id)
    assert outcome.response_state == written
    assert outcome.run_updates["state_id"] == written["id"]
    assert outcome.run_updates["state_type"] == "PENDING"
    assert outcome.run_updates["state_name"] == "Pending"
    assert outcome.run_updates["state_timestamp"] == NOW
    assert outcome.run_updates["expected_start_time"] == NOW


def test_running_sets_start_time_and_counts_the_attempt() -> None:
    run = flow_run(state_row("PENDING"))
    outcome = propose(run, "RUNNING")

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["start_time"] == NOW
    assert outcome.run_updates["run_count"] == 1
    assert outcome.run_updates["end_time"] is None


def test_terminal_state_sets_end_time_and_run_time() -> None:
    run = flow_run(state_row("RUNNING", timestamp=NOW - dt.timedelta(seconds=30)), start_time=EARLIER, run_count=1)
    outcome = propose(run, "COMPLETED")

    assert outcome.run_updates["end_time"] == NOW
    assert outcome.run_updates["total_run_time"] == pytest.approx(30.0)


def test_total_run_time_accumulates_over_attempts() -> None:
    run = flow_run(state_row("PENDING"), empirical_policy={"retries": 1})
    clock = NOW
    for state_type in ("RUNNING", "FAILED", "RUNNING", "COMPLETED"):
        run = apply(run, propose(run, state_type, now=clock))
        clock += dt.timedelta(seconds=10)

    assert run.total_run_time == pytest.approx(20.0)
    assert run.run_count == 2


def test_end_time_cleared_when_leaving_a_terminal_state() -> None:
    run = flow_run(state_row("FAILED"), end_time=EARLIER, start_time=EARLIER, run_count=1)
    outcome = propose(run, "RUNNING")

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["end_time"] is None
    assert outcome.run_updates["start_time"] == EARLIER


def test_failing_before_start_gets_a_start_time() -> None:
    run = flow_run(state_row("PENDING"))
    outcome = propose(run, "CRASHED")

    assert outcome.run_updates["start_time"] == NOW
    assert outcome.run_updates["end_time"] == NOW


def test_timestamps_are_unique_and_increasing() -> None:
    same = flow_run(state_row("PENDING", timestamp=NOW))
    ahead = flow_run(state_row("PENDING", timestamp=NOW + dt.timedelta(seconds=2)))

    first = propose(same, "RUNNING").state_to_write
    second = propose(ahead, "RUNNING").state_to_write

    assert first is not None and second is not None
    assert first["timestamp"] == NOW + dt.timedelta(microseconds=1)
    assert second["timestamp"] == NOW + dt.timedelta(seconds=2, microseconds=1)


def test_a_sequence_in_one_clock_tick_stays_ordered() -> None:
    run = flow_run()
    stamps = []
    for state_type in ("PENDING", "RUNNING", "COMPLETED"):
        outcome = propose(run, state_type, force=state_type == "PENDING")
        assert outcome.state_to_write is not None
        stamps.append(outcome.state_to_write["timestamp"])
        run = apply(run, outcome)

    assert stamps == sorted(set(stamps))


def test_scheduled_state_defaults_its_time_and_sets_next_start() -> None:
    run = flow_run()
    outcome = propose(run, "SCHEDULED", force=True)

    assert outcome.state_to_write is not None
    assert outcome.state_to_write["state_details"]["scheduled_time"] == NOW.isoformat().replace("+00:00", "Z")
    assert outcome.run_updates["next_scheduled_start_time"] == NOW
    assert outcome.run_updates["expected_start_time"] == NOW


def test_expected_start_time_comes_from_the_schedule_and_is_kept() -> None:
    later = NOW + dt.timedelta(hours=1)
    run = flow_run()
    run = apply(run, propose(run, "SCHEDULED", force=True, details={"scheduled_time": later.isoformat()}))
    assert run.expected_start_time == later
    assert run.next_scheduled_start_time == later

    outcome = propose(run, "PENDING")

    assert outcome.run_updates["expected_start_time"] == later
    assert outcome.run_updates["next_scheduled_start_time"] is None


def test_subflow_states_point_at_the_tracking_task() -> None:
    parent_task_run_id = uuid.uuid4()
    run = flow_run(state_row("PENDING"), parent_task_run_id=parent_task_run_id)
    outcome = propose(run, "RUNNING")

    assert outcome.state_to_write is not None
    assert outcome.state_to_write["state_details"]["task_run_id"] == str(parent_task_run_id)

    copy = subflow_parent_task_state(outcome.state_to_write, run.id)

    assert copy.type == StateType.RUNNING
    assert copy.name == "Running"
    assert copy.state_details.child_flow_run_id == run.id
    assert copy.state_details.task_run_id is None


# PreventDuplicateTransitions


def test_duplicate_transition_id_returns_the_current_state() -> None:
    transition_id = str(uuid.uuid4())
    run = flow_run(state_row("RUNNING", details={"transition_id": transition_id}), run_count=1)

    duplicate = propose(run, "RUNNING", details={"transition_id": transition_id})
    fresh = propose(run, "COMPLETED", details={"transition_id": str(uuid.uuid4())})

    assert duplicate.status == "REJECT"
    assert duplicate.reason == "This run has already made this state transition."
    assert_kept_current(run, duplicate)
    assert fresh.status == "ACCEPT"


# HandleFlowTerminalStateTransitions and PreventResultDataLoss


@pytest.mark.parametrize("state_type", ["CANCELLING", "PAUSED", "CRASHED"])
def test_terminal_run_cannot_be_marked_cancelling_paused_or_crashed(state_type: str) -> None:
    run = flow_run(state_row("COMPLETED"))
    outcome = propose(run, state_type)

    assert outcome.status == "ABORT"
    assert outcome.reason == "Run is already in terminal state COMPLETED."
    assert_kept_current(run, outcome)


def test_terminal_run_cannot_be_rescheduled_without_a_deployment() -> None:
    run = flow_run(state_row("FAILED"))
    outcome = propose(run, "SCHEDULED")

    assert outcome.status == "ABORT"
    assert outcome.reason == "Cannot reschedule a run without an associated deployment."


def test_terminal_run_of_a_deployment_is_rescheduled_with_pause_state_reset() -> None:
    run = flow_run(
        state_row("FAILED"),
        deployment_id=uuid.uuid4(),
        end_time=EARLIER,
        empirical_policy={"pause_keys": ["a"], "resuming": True, "retries": 2},
    )
    outcome = propose(run, "SCHEDULED")

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["empirical_policy"] == {
        "pause_keys": [],
        "resuming": False,
        "retry_type": "reschedule",
        "retries": 2,
    }
    assert outcome.run_updates["end_time"] is None


def test_completed_run_with_persisted_result_cannot_rerun() -> None:
    run = flow_run(state_row("COMPLETED", data=PERSISTED))

    rerun = propose(run, "RUNNING")
    unpersisted = propose(flow_run(state_row("COMPLETED", data={"type": "unpersisted"})), "RUNNING")

    assert rerun.status == "REJECT"
    assert rerun.reason == "Run is already COMPLETED."
    assert_kept_current(run, rerun)
    assert unpersisted.status == "ACCEPT"


def test_persisted_result_cannot_be_overwritten_even_when_forced() -> None:
    run = flow_run(state_row("COMPLETED", data=PERSISTED))

    forced = propose(run, "COMPLETED", force=True)
    with_result = propose(run, "COMPLETED", force=True, data=PERSISTED)

    assert forced.status == "REJECT"
    assert forced.reason is not None and forced.reason.startswith("Cannot overwrite a COMPLETED state")
    assert_kept_current(run, forced)
    assert with_result.status == "ACCEPT"


# EnforceCancellingToCancelledTransition


def test_cancelling_run_can_only_become_cancelled() -> None:
    run = flow_run(state_row("CANCELLING"), run_count=1)

    running = propose(run, "RUNNING")
    cancelled = propose(run, "CANCELLED")

    assert running.status == "REJECT"
    assert running.reason == "Cannot transition flows that are cancelling to a state other than Cancelled."
    assert_kept_current(run, running)
    assert cancelled.status == "ACCEPT"


# BypassCancellingFlowRunsWithNoInfra


def test_cancelling_a_scheduled_run_cancels_it_directly() -> None:
    run = flow_run(state_row("SCHEDULED", details={"scheduled_time": NOW.isoformat()}))
    outcome = propose(run, "CANCELLING")

    assert outcome.status == "REJECT"
    assert outcome.reason == "Scheduled flow run has no infrastructure to terminate."
    assert outcome.status_code == 201
    assert outcome.state_to_write is not None
    assert outcome.state_to_write["type"] == "CANCELLED"
    assert outcome.state_to_write["name"] == "Cancelled"
    assert outcome.response_state == outcome.state_to_write
    assert outcome.run_updates["state_type"] == "CANCELLED"
    assert outcome.run_updates["end_time"] == NOW


def test_cancelling_a_scheduled_run_with_a_process_goes_through_cancelling() -> None:
    run = flow_run(state_row("SCHEDULED"), infrastructure_pid="host:123")
    outcome = propose(run, "CANCELLING")

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["state_type"] == "CANCELLING"


def test_cancelling_a_suspended_run_cancels_it_directly_even_when_forced() -> None:
    run = flow_run(state_row("PAUSED", "Suspended", details={"pause_reschedule": True}))
    outcome = propose(run, "CANCELLING", force=True)

    assert outcome.status == "REJECT"
    assert outcome.reason == "Suspended flow run has no infrastructure to terminate."
    assert outcome.state_to_write is not None and outcome.state_to_write["type"] == "CANCELLED"


# PreventPendingTransitions


@pytest.mark.parametrize("state_type", ["RUNNING", "CANCELLED"])
def test_pending_is_refused_after_submission(state_type: str) -> None:
    run = flow_run(state_row(state_type), run_count=1)
    outcome = propose(run, "PENDING")

    assert outcome.status == "ABORT"
    assert outcome.reason == f"This run is in a {state_type} state and cannot transition to a PENDING state."
    assert_kept_current(run, outcome)


def test_pending_to_pending_is_only_a_rename_to_a_sub_state() -> None:
    scheduled_time = (NOW - dt.timedelta(seconds=5)).isoformat()
    run = flow_run(state_row("PENDING", details={"scheduled_time": scheduled_time}))

    second_worker = propose(run, "PENDING")
    submitting = propose(run, "PENDING", "Submitting")

    assert second_worker.status == "ABORT"
    assert submitting.status == "ACCEPT"
    assert submitting.state_to_write is not None
    assert submitting.state_to_write["name"] == "Submitting"
    assert dt.datetime.fromisoformat(submitting.state_to_write["state_details"]["scheduled_time"]) == (
        NOW - dt.timedelta(seconds=5)
    )


# EnsureOnlyScheduledFlowsMarkedLate


def test_only_scheduled_runs_are_marked_late_once() -> None:
    scheduled = flow_run(state_row("SCHEDULED", details={"scheduled_time": EARLIER.isoformat()}))
    late = flow_run(state_row("SCHEDULED", "Late", details={"scheduled_time": EARLIER.isoformat()}))
    running = flow_run(state_row("RUNNING"), run_count=1)

    accepted = propose(scheduled, "SCHEDULED", "Late", details={"scheduled_time": EARLIER.isoformat()})
    again = propose(late, "SCHEDULED", "Late")
    not_scheduled = propose(running, "SCHEDULED", "Late")

    assert accepted.status == "ACCEPT"
    assert accepted.run_updates["state_name"] == "Late"
    assert accepted.run_updates["next_scheduled_start_time"] == EARLIER
    assert again.status == "REJECT"
    assert again.reason == "This flow run is already marked late."
    assert not_scheduled.status == "REJECT"
    assert not_scheduled.reason == "Only scheduled flows can be marked late."
    assert_kept_current(running, not_scheduled)


# CopyScheduledTime and WaitForScheduledTime


def test_pending_copies_the_scheduled_time() -> None:
    when = NOW + dt.timedelta(minutes=5)
    run = flow_run(state_row("SCHEDULED", details={"scheduled_time": when.isoformat()}))

    copied = propose(run, "PENDING")
    own = propose(run, "PENDING", details={"scheduled_time": NOW.isoformat()})

    assert copied.state_to_write is not None and own.state_to_write is not None
    assert dt.datetime.fromisoformat(copied.state_to_write["state_details"]["scheduled_time"]) == when
    assert dt.datetime.fromisoformat(own.state_to_write["state_details"]["scheduled_time"]) == NOW


@pytest.mark.parametrize(("ahead", "delay"), [(30.0, 30), (2.4, 2), (2.6, 3)])
def test_running_before_the_scheduled_time_waits(ahead: float, delay: int) -> None:
    when = NOW + dt.timedelta(seconds=ahead)
    run = flow_run(state_row("SCHEDULED", details={"scheduled_time": when.isoformat()}))
    outcome = propose(run, "RUNNING")

    assert outcome.status == "WAIT"
    assert outcome.delay_seconds == delay
    assert outcome.reason == "Scheduled time is in the future"
    assert_kept_current(run, outcome)
    body = outcome.result_body()
    assert body["details"] == {"type": "wait_details", "delay_seconds": delay, "reason": outcome.reason}


def test_running_at_the_scheduled_time_is_accepted() -> None:
    for when in (NOW, NOW + dt.timedelta(milliseconds=300), NOW - dt.timedelta(hours=1)):
        run = flow_run(state_row("PENDING", details={"scheduled_time": when.isoformat()}))
        assert propose(run, "RUNNING").status == "ACCEPT"


# RetryFailedFlows


def test_failure_with_retries_left_becomes_awaiting_retry() -> None:
    run = flow_run(
        state_row("RUNNING"),
        run_count=1,
        empirical_policy={"retries": 2, "retry_delay": 10, "pause_keys": ["p"], "resuming": False},
    )
    outcome = propose(run, "FAILED", message="boom", data={"type": "unpersisted"})

    assert outcome.status == "REJECT"
    assert outcome.reason == "Retrying"
    assert outcome.status_code == 201
    written = outcome.state_to_write
    assert written is not None
    assert (written["type"], written["name"]) == ("SCHEDULED", "AwaitingRetry")
    assert written["message"] == "boom"
    assert written["data"] == {"type": "unpersisted"}
    assert dt.datetime.fromisoformat(written["state_details"]["scheduled_time"]) == NOW + dt.timedelta(seconds=10)
    assert written["state_details"]["flow_run_id"] == str(run.id)
    assert outcome.response_state == written
    policy = outcome.run_updates["empirical_policy"]
    assert policy["retry_type"] == "in_process"
    assert policy["pause_keys"] == []
    assert outcome.run_updates["end_time"] is None
    assert outcome.run_updates["next_scheduled_start_time"] == NOW + dt.timedelta(seconds=10)


def test_retry_cycle_as_the_client_drives_it() -> None:
    run = flow_run(empirical_policy={"retries": 1, "retry_delay": 0})
    history = []
    statuses = []
    for state_type, force in (("PENDING", True), ("RUNNING", False), ("FAILED", False), ("RUNNING", False)):
        outcome = propose(run, state_type, force=force)
        statuses.append(outcome.status)
        assert outcome.state_to_write is not None
        history.append(outcome.state_to_write["name"])
        run = apply(run, outcome)
    assert run.run_count == 2

    final = propose(run, "FAILED")

    assert statuses == ["ACCEPT", "ACCEPT", "REJECT", "ACCEPT"]
    assert history == ["Pending", "Running", "AwaitingRetry", "Running"]
    assert final.status == "ACCEPT"
    assert final.run_updates["state_type"] == "FAILED"
    assert final.state_to_write is not None
    assert final.run_updates["end_time"] == final.state_to_write["timestamp"] > NOW
    assert final.run_updates["empirical_policy"]["retry_type"] is None


def test_running_after_awaiting_retry_waits_for_the_delay() -> None:
    run = flow_run(state_row("RUNNING"), run_count=1, empirical_policy={"retries": 1, "retry_delay": 20})
    run = apply(run, propose(run, "FAILED"))

    outcome = propose(run, "RUNNING", now=NOW + dt.timedelta(seconds=5))

    assert outcome.status == "WAIT"
    assert outcome.delay_seconds == 15


def test_no_retries_configured_fails_the_run() -> None:
    run = flow_run(state_row("RUNNING"), run_count=1, start_time=EARLIER)
    outcome = propose(run, "FAILED", message="boom")

    assert outcome.status == "ACCEPT"
    assert outcome.state_to_write is not None and outcome.state_to_write["message"] == "boom"
    assert outcome.run_updates["end_time"] == NOW


def test_deprecated_max_retries_still_retries() -> None:
    run = flow_run(state_row("RUNNING"), run_count=1, empirical_policy={"max_retries": 1, "retry_delay_seconds": 3})
    outcome = propose(run, "FAILED")

    assert outcome.status == "REJECT"
    assert outcome.state_to_write is not None
    scheduled = outcome.state_to_write["state_details"]["scheduled_time"]
    assert dt.datetime.fromisoformat(scheduled) == NOW + dt.timedelta(seconds=3)


# HandlePausingFlows


def test_pause_requires_a_running_flow() -> None:
    run = flow_run(state_row("PENDING"))
    outcome = propose(run, "PAUSED", details={"pause_key": "k"})

    assert outcome.status == "REJECT"
    assert outcome.reason == "Cannot pause flows that are not currently running."
    assert_kept_current(run, outcome)


def test_pause_without_state_aborts() -> None:
    outcome = propose(flow_run(), "PAUSED")

    assert outcome.status == "ABORT"
    assert outcome.reason == "Cannot pause flows with no state."
    assert outcome.response_state is None


def test_pause_records_its_key_and_fires_once() -> None:
    keyset = {"description": "k-description", "response": "k-response", "schema": "k-schema"}
    run = flow_run(state_row("RUNNING"), run_count=1, empirical_policy={"pause_keys": []})
    paused = propose(run, "PAUSED", details={"pause_key": "k", "run_input_keyset": keyset})

    assert paused.status == "ACCEPT"
    assert paused.run_updates["empirical_policy"]["pause_keys"] == ["k"]
    assert sorted(paused.run_input_keys_to_delete) == sorted(keyset.values())

    run = dataclasses.replace(run, empirical_policy=paused.run_updates["empirical_policy"])
    again = propose(run, "PAUSED", details={"pause_key": "k"})

    assert again.status == "REJECT"
    assert again.reason == "This pause has already fired."
    assert_kept_current(run, again)


def test_pause_without_a_key_gets_one() -> None:
    run = flow_run(state_row("RUNNING"), run_count=1)
    outcome = propose(run, "PAUSED")

    assert outcome.status == "ACCEPT"
    assert len(outcome.run_updates["empirical_policy"]["pause_keys"]) == 1


def test_suspend_needs_a_deployed_top_level_flow() -> None:
    details = {"pause_reschedule": True, "pause_key": "s"}
    no_deployment = flow_run(state_row("RUNNING"), run_count=1)
    subflow = flow_run(state_row("RUNNING"), run_count=1, deployment_id=uuid.uuid4(), parent_task_run_id=uuid.uuid4())
    deployed = flow_run(state_row("RUNNING"), run_count=1, deployment_id=uuid.uuid4())

    assert propose(no_deployment, "PAUSED", "Suspended", details=details).reason == (
        "Cannot suspend flows without a deployment."
    )
    assert propose(subflow, "PAUSED", "Suspended", details=details).reason == "Cannot suspend subflows."
    assert propose(subflow, "PAUSED", "Suspended", details=details).status == "ABORT"
    assert propose(deployed, "PAUSED", "Suspended", details=details).status == "ACCEPT"


# HandleResumingPausedFlows and resume_proposal


def test_resume_a_blocking_pause_runs_again() -> None:
    run = flow_run(
        state_row("PAUSED", details={"pause_key": "k", "pause_timeout": (NOW + dt.timedelta(hours=1)).isoformat()}),
        run_count=1,
        empirical_policy={"pause_keys": ["k"]},
    )
    proposal = resume_proposal(run, NOW)
    assert proposal.type == StateType.RUNNING

    outcome = orchestrate(TransitionContext(run=run, proposed=proposal, now=NOW))

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["state_type"] == "RUNNING"
    assert outcome.run_updates["empirical_policy"]["resuming"] is True
    run = apply(run, outcome)

    done = propose(run, "COMPLETED")

    assert done.run_updates["empirical_policy"]["resuming"] is False


def test_resume_a_suspended_run_reschedules_it_and_does_not_count_an_attempt() -> None:
    run = flow_run(
        state_row("PAUSED", "Suspended", details={"pause_reschedule": True, "pause_key": "s"}),
        run_count=1,
        deployment_id=uuid.uuid4(),
    )
    proposal = resume_proposal(run, NOW)
    assert (proposal.type, proposal.name) == (StateType.SCHEDULED, "Resuming")
    assert proposal.state_details.scheduled_time == NOW

    run = apply(run, orchestrate(TransitionContext(run=run, proposed=proposal, now=NOW)))
    assert run.empirical_policy["resuming"] is True
    run = apply(run, propose(run, "PENDING"))
    running = propose(run, "RUNNING")

    assert running.status == "ACCEPT"
    assert running.run_updates["run_count"] == 1
    assert running.run_updates["empirical_policy"]["resuming"] is False


def test_resume_requires_a_paused_run() -> None:
    with pytest.raises(ValueError, match="not paused"):
        resume_proposal(flow_run(state_row("RUNNING")), NOW)
    with pytest.raises(ValueError):
        resume_proposal(flow_run(), NOW)


def test_resume_after_the_pause_timeout_fails_the_run() -> None:
    run = flow_run(
        state_row("PAUSED", details={"pause_timeout": (NOW - dt.timedelta(seconds=1)).isoformat()}), run_count=1
    )
    outcome = propose(run, "RUNNING")

    assert outcome.status == "REJECT"
    assert outcome.reason == "The flow run pause has timed out and can no longer resume."
    assert outcome.state_to_write is not None
    assert outcome.state_to_write["type"] == "FAILED"
    assert outcome.state_to_write["message"] == "The flow was running and never resumed."
    assert outcome.status_code == 201


def test_paused_run_cannot_go_back_to_pending() -> None:
    run = flow_run(state_row("PAUSED"), run_count=1)
    outcome = propose(run, "PENDING")

    assert outcome.status == "REJECT"
    assert outcome.reason == "This run cannot transition to the PENDING state from the PAUSED state."


def test_cancelling_a_paused_run_ignores_the_timeout() -> None:
    run = flow_run(
        state_row("PAUSED", details={"pause_timeout": (NOW - dt.timedelta(seconds=1)).isoformat()}), run_count=1
    )
    assert propose(run, "CANCELLING").status == "ACCEPT"


def test_a_blocking_pause_rescheduled_starts_a_new_attempt() -> None:
    run = flow_run(
        state_row("PAUSED", details={"pause_key": "k"}),
        run_count=1,
        deployment_id=uuid.uuid4(),
        empirical_policy={"pause_keys": ["k"]},
    )
    outcome = propose(run, "SCHEDULED")

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["empirical_policy"] == {
        "pause_keys": [],
        "resuming": False,
        "retry_type": "reschedule",
    }


# force=True (MinimalFlowPolicy)


def test_force_bypasses_the_core_rules() -> None:
    cancelling = flow_run(state_row("CANCELLING"), run_count=1)
    completed = flow_run(state_row("COMPLETED", data=PERSISTED))
    running = flow_run(state_row("RUNNING"), run_count=1, empirical_policy={"retries": 3})

    assert propose(cancelling, "RUNNING", force=True).status == "ACCEPT"
    assert propose(completed, "CRASHED", force=True).status == "ACCEPT"
    assert propose(running, "PENDING", force=True).status == "ACCEPT"
    failed = propose(running, "FAILED", force=True)
    assert failed.status == "ACCEPT"
    assert failed.run_updates["state_type"] == "FAILED"


def test_force_keeps_the_deployment_lease() -> None:
    lease_id = str(uuid.uuid4())
    run = flow_run(state_row("PENDING", details={"deployment_concurrency_lease_id": lease_id}))
    outcome = propose(run, "RUNNING", force=True)

    assert outcome.state_to_write is not None
    assert outcome.state_to_write["state_details"]["deployment_concurrency_lease_id"] == lease_id


# Response bodies


def _outcomes() -> list[TransitionOutcome]:
    scheduled_later = {"scheduled_time": (NOW + dt.timedelta(seconds=9)).isoformat()}
    return [
        propose(flow_run(state_row("PENDING")), "RUNNING"),
        propose(flow_run(state_row("RUNNING"), run_count=1, empirical_policy={"retries": 1}), "FAILED"),
        propose(flow_run(state_row("RUNNING"), run_count=1), "PENDING"),
        propose(flow_run(state_row("SCHEDULED", details=scheduled_later)), "RUNNING"),
        propose(flow_run(state_row("PENDING")), "PAUSED"),
        propose(flow_run(), "PAUSED"),
    ]


@pytest.mark.parametrize("outcome", _outcomes(), ids=["accept", "reject-retry", "abort", "wait", "reject-keep", "none"])
def test_result_body_parses_with_the_client_model(outcome: TransitionOutcome) -> None:
    body = outcome.result_body()
    parsed: ClientOrchestrationResult[Any] = ClientOrchestrationResult.model_validate(body)

    assert parsed.status.value == outcome.status
    assert getattr(parsed.details, "reason", None) == outcome.reason
    if outcome.response_state is None:
        assert parsed.state is None
    else:
        assert parsed.state is not None
        assert parsed.state.id == outcome.response_state["id"]
        assert parsed.state.name == outcome.response_state["name"]

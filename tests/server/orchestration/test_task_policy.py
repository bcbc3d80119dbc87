"""Task run orchestration: the core, minimal (forced) and background policies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid
from typing import Any

import pytest
from prefect.client.schemas.responses import OrchestrationResult as ClientOrchestrationResult

from baton.server.orchestration.context import RunSnapshot, TransitionContext, TransitionOutcome
from baton.server.orchestration.policies import orchestrate
from baton.server.orchestration.task_rules import MAX_CACHE_KEY_LENGTH, task_retry_delay
from baton.server.schemas.states import StateCreate, StateDetails
from baton.states import StateType

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
EARLIER = NOW - dt.timedelta(minutes=1)
FLOW_RUN_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
RUNNING_FLOW = {"state_type": "RUNNING", "state_name": "Running", "run_count": 1}


def state_row(
    state_type: str,
    name: str | None = None,
    *,
    details: dict[str, Any] | None = None,
    data: Any = None,
    message: str | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "type": state_type,
        "name": name or state_type.capitalize(),
        "timestamp": EARLIER,
        "message": message,
        "data": data,
        "state_details": details or {},
    }


def task_run(current: dict[str, Any] | None = None, **fields: Any) -> RunSnapshot:
    values: dict[str, Any] = {
        "kind": "task_run",
        "id": uuid.uuid4(),
        "current_state": current,
        "run_count": 0,
        "start_time": None,
        "end_time": None,
        "total_run_time": 0.0,
        "expected_start_time": None,
        "next_scheduled_start_time": None,
        "empirical_policy": {},
        "flow_run_id": FLOW_RUN_ID,
        "flow_run_run_count": 1,
    }
    values.update(fields)
    return RunSnapshot(**values)


def propose(
    run: RunSnapshot,
    state_type: str,
    name: str | None = None,
    *,
    parent: dict[str, Any] | None = RUNNING_FLOW,
    cached: dict[str, Any] | None = None,
    force: bool = False,
    details: dict[str, Any] | None = None,
    message: str | None = None,
    now: dt.datetime = NOW,
    seed: int = 0,
) -> TransitionOutcome:
    proposed = StateCreate(
        type=StateType(state_type), name=name, message=message, state_details=StateDetails.model_validate(details or {})
    )
    context = TransitionContext(
        run=run,
        proposed=proposed,
        force=force,
        now=now,
        parent_flow_run=parent,
        cached_state=cached,
        rng=random.Random(seed),
    )
    return orchestrate(context)


def apply(run: RunSnapshot, outcome: TransitionOutcome) -> RunSnapshot:
    if outcome.state_to_write is None:
        return run
    updates = {k: v for k, v in outcome.run_updates.items() if not k.startswith("state_")}
    return dataclasses.replace(run, current_state=outcome.state_to_write, **updates)


def scheduled_time(outcome: TransitionOutcome) -> dt.datetime:
    assert outcome.state_to_write is not None
    return dt.datetime.fromisoformat(outcome.state_to_write["state_details"]["scheduled_time"])


# Global bookkeeping


def test_running_counts_the_attempt_and_stamps_references() -> None:
    run = task_run(state_row("PENDING"))
    outcome = propose(run, "RUNNING")

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["run_count"] == 1
    assert outcome.run_updates["flow_run_run_count"] == 1
    assert outcome.run_updates["start_time"] == NOW
    assert outcome.state_to_write is not None
    assert outcome.state_to_write["state_details"]["task_run_id"] == str(run.id)
    assert outcome.state_to_write["state_details"]["flow_run_id"] == str(FLOW_RUN_ID)


def test_task_timestamps_are_not_bumped() -> None:
    run = task_run(dict(state_row("PENDING"), timestamp=NOW))
    outcome = propose(run, "RUNNING")

    assert outcome.state_to_write is not None
    assert outcome.state_to_write["timestamp"] == NOW


def test_flow_run_attempt_is_tracked() -> None:
    run = task_run(state_row("PENDING"), flow_run_run_count=0)
    outcome = propose(run, "RUNNING", parent={"state_type": "RUNNING", "state_name": "Running", "run_count": 3})

    assert outcome.run_updates["flow_run_run_count"] == 3


# CacheRetrieval


def test_cached_result_is_returned_instead_of_running() -> None:
    cached = state_row("COMPLETED", message="from cache", data={"storage_key": "/r/1"}, details={"cache_key": "k"})
    cached["task_run_id"] = uuid.uuid4()
    run = task_run(state_row("PENDING"))
    outcome = propose(run, "RUNNING", cached=cached, details={"cache_key": "k"})

    assert outcome.status == "REJECT"
    assert outcome.reason == "Retrieved state from cache"
    assert outcome.status_code == 201
    written = outcome.state_to_write
    assert written is not None
    assert (written["type"], written["name"]) == ("COMPLETED", "Cached")
    assert written["id"] != cached["id"]
    assert written["timestamp"] == NOW
    assert written["message"] == "from cache"
    assert written["data"] == {"storage_key": "/r/1"}
    assert written["state_details"]["task_run_id"] == str(run.id)
    assert outcome.run_updates["run_count"] == 0
    assert outcome.run_updates["end_time"] == NOW
    assert outcome.cache_insert is None


def test_refresh_cache_runs_anyway() -> None:
    cached = state_row("COMPLETED", details={"cache_key": "k"})
    outcome = propose(
        task_run(state_row("PENDING")), "RUNNING", cached=cached, details={"cache_key": "k", "refresh_cache": True}
    )

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["state_type"] == "RUNNING"


# HandleTaskTerminalStateTransitions


@pytest.mark.parametrize("state_type", ["CANCELLING", "PAUSED", "CRASHED"])
def test_finished_task_cannot_be_marked_crashed_paused_or_cancelling(state_type: str) -> None:
    run = task_run(state_row("COMPLETED"), run_count=1)
    outcome = propose(run, state_type)

    assert outcome.status == "ABORT"
    assert outcome.reason == "Run is already COMPLETED."
    assert outcome.state_to_write is None
    assert outcome.response_state == run.current_state


def test_completed_task_with_persisted_result_cannot_rerun() -> None:
    run = task_run(state_row("COMPLETED", data={"storage_key": "/r/1"}), run_count=1)
    outcome = propose(run, "RUNNING")

    assert outcome.status == "REJECT"
    assert outcome.reason == "This run is already completed."
    assert outcome.status_code == 200


def test_rerun_in_a_retried_flow_is_named_retrying_and_restarts_retries() -> None:
    run = task_run(state_row("FAILED"), run_count=3, flow_run_run_count=1)
    parent = {"state_type": "RUNNING", "state_name": "Running", "run_count": 2}
    outcome = propose(run, "RUNNING", parent=parent)

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["state_name"] == "Retrying"
    assert outcome.run_updates["run_count"] == 1
    assert outcome.run_updates["flow_run_run_count"] == 2


def test_rejected_rerun_keeps_the_run_count() -> None:
    run = task_run(state_row("FAILED"), run_count=3)
    outcome = propose(run, "RUNNING", parent={"state_type": "PAUSED", "state_name": "Paused", "run_count": 1})

    assert outcome.status == "REJECT"
    assert outcome.run_updates["run_count"] == 3


# PreventRunningTasksFromStoppedFlows


@pytest.mark.parametrize("parent_type", ["COMPLETED", "PENDING", "CANCELLING", None])
def test_task_cannot_run_in_a_flow_that_is_not_running(parent_type: str | None) -> None:
    run = task_run(state_row("PENDING"))
    outcome = propose(run, "RUNNING", parent={"state_type": parent_type, "state_name": None, "run_count": 1})

    assert outcome.status == "ABORT"
    assert outcome.reason == "The enclosing flow must be running to begin task execution."
    assert outcome.state_to_write is None


def test_task_in_a_paused_flow_is_not_ready() -> None:
    timeout = NOW + dt.timedelta(hours=1)
    parent = {
        "state_type": "PAUSED",
        "state_name": "Paused",
        "run_count": 1,
        "state_details": {"pause_timeout": timeout.isoformat()},
    }
    outcome = propose(task_run(state_row("PENDING")), "RUNNING", parent=parent)

    assert outcome.status == "REJECT"
    assert outcome.reason == f"The flow is paused, new tasks can execute after resuming flow run: {FLOW_RUN_ID}."
    written = outcome.state_to_write
    assert written is not None
    assert (written["type"], written["name"]) == ("PAUSED", "NotReady")
    assert dt.datetime.fromisoformat(written["state_details"]["pause_timeout"]) == timeout


def test_task_without_a_flow_run_may_run() -> None:
    run = task_run(state_row("PENDING"), flow_run_id=None)
    assert propose(run, "RUNNING", parent=None).status == "ACCEPT"


# CopyScheduledTime and WaitForScheduledTime


def test_task_waits_for_its_scheduled_time() -> None:
    when = NOW + dt.timedelta(seconds=12)
    run = task_run(state_row("SCHEDULED", details={"scheduled_time": when.isoformat()}))

    pending = propose(run, "PENDING")
    running = propose(run, "RUNNING")

    assert scheduled_time(pending) == when
    assert running.status == "WAIT"
    assert running.delay_seconds == 12


# RetryFailedTasks and RenameReruns


@pytest.mark.parametrize(("run_count", "delay"), [(1, 1), (2, 10), (3, 100), (5, 100)])
def test_retry_delay_list_is_indexed_by_attempt(run_count: int, delay: int) -> None:
    run = task_run(
        state_row("RUNNING"), run_count=run_count, empirical_policy={"retries": 5, "retry_delay": [1, 10, 100]}
    )
    outcome = propose(run, "FAILED", message="boom")

    assert outcome.status == "REJECT"
    assert outcome.reason == "Retrying"
    assert outcome.state_to_write is not None
    assert outcome.state_to_write["name"] == "AwaitingRetry"
    assert outcome.state_to_write["message"] == "boom"
    assert scheduled_time(outcome) == NOW + dt.timedelta(seconds=delay)


def test_retries_exhausted_fail_the_task() -> None:
    run = task_run(state_row("RUNNING"), run_count=3, empirical_policy={"retries": 2, "retry_delay": 1})
    outcome = propose(run, "FAILED")

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["state_type"] == "FAILED"
    assert outcome.run_updates["end_time"] == NOW


def test_non_retriable_failure_is_not_retried() -> None:
    run = task_run(state_row("RUNNING"), run_count=1, empirical_policy={"retries": 2})
    outcome = propose(run, "FAILED", details={"retriable": False})

    assert outcome.status == "ACCEPT"


def test_retry_jitter_is_seeded_and_bounded() -> None:
    policy = {"retries": 1, "retry_delay": 10, "retry_jitter_factor": 0.5}
    delays = [task_retry_delay(policy, 1, random.Random(seed)) for seed in range(50)]

    assert delays == [task_retry_delay(policy, 1, random.Random(seed)) for seed in range(50)]
    assert all(0 < delay <= 15.0 for delay in delays)
    assert len(set(delays)) > 1
    assert task_retry_delay({"retry_delay": 0, "retry_jitter_factor": 0.5}, 1, random.Random(0)) == 0


def test_retry_cycle_renames_the_second_attempt() -> None:
    run = task_run(state_row("PENDING"), empirical_policy={"retries": 1, "retry_delay": 0})
    names = []
    for state_type in ("RUNNING", "FAILED", "RUNNING", "COMPLETED"):
        outcome = propose(run, state_type)
        assert outcome.state_to_write is not None
        names.append(outcome.state_to_write["name"])
        run = apply(run, outcome)

    assert names == ["Running", "AwaitingRetry", "Retrying", "Completed"]
    assert run.run_count == 2


def test_second_run_without_retry_is_rerunning() -> None:
    run = task_run(state_row("PENDING"), run_count=1)
    outcome = propose(run, "RUNNING")

    assert outcome.run_updates["state_name"] == "Rerunning"


# CacheInsertion


def test_completed_state_with_a_cache_key_is_cached() -> None:
    expiration = NOW + dt.timedelta(days=1)
    run = task_run(state_row("RUNNING"), run_count=1)
    outcome = propose(run, "COMPLETED", details={"cache_key": "k", "cache_expiration": expiration.isoformat()})

    assert outcome.status == "ACCEPT"
    assert outcome.cache_insert == {"cache_key": "k", "cache_expiration": expiration}


def test_over_long_cache_key_is_refused_but_the_state_is_written() -> None:
    key = "k" * (MAX_CACHE_KEY_LENGTH + 1)
    run = task_run(state_row("RUNNING"), run_count=1)
    outcome = propose(run, "COMPLETED", details={"cache_key": key})

    assert outcome.status == "REJECT"
    assert outcome.reason == f"Cache key exceeded maximum allowed length of {MAX_CACHE_KEY_LENGTH} characters."
    assert outcome.state_to_write is not None
    assert outcome.state_to_write["type"] == "COMPLETED"
    assert outcome.status_code == 201
    assert outcome.cache_insert is None


# Forced and background policies


def test_force_applies_only_the_bookkeeping() -> None:
    run = task_run(state_row("COMPLETED", data={"storage_key": "/r/1"}), run_count=1)
    outcome = propose(run, "RUNNING", force=True, parent={"state_type": "COMPLETED", "state_name": "x", "run_count": 1})

    assert outcome.status == "ACCEPT"
    assert outcome.run_updates["run_count"] == 2
    assert outcome.run_updates["flow_run_run_count"] == 1


def test_deferred_task_is_enqueued_when_scheduled() -> None:
    run = task_run(None, flow_run_id=None)
    outcome = propose(run, "SCHEDULED", parent=None, details={"deferred": True})

    assert outcome.status == "ACCEPT"
    assert outcome.task_queue_action == "enqueue"


def test_deferred_task_keeps_its_parameters_and_is_not_submitted_twice() -> None:
    parameters_id = str(uuid.uuid4())
    run = task_run(
        state_row("SCHEDULED", details={"deferred": True, "task_parameters_id": parameters_id}), flow_run_id=None
    )
    pending = propose(run, "PENDING", parent=None, details={"deferred": True})
    assert pending.state_to_write is not None
    assert pending.state_to_write["state_details"]["task_parameters_id"] == parameters_id

    run = apply(run, pending)
    again = propose(run, "PENDING", parent=None, details={"deferred": True})

    assert again.status == "ABORT"
    assert again.reason == "This run is in a PENDING state and cannot transition to a PENDING state."


@pytest.mark.parametrize(
    "outcome",
    [
        propose(task_run(state_row("PENDING")), "RUNNING"),
        propose(task_run(state_row("PENDING")), "RUNNING", parent={"state_type": None, "run_count": 0}),
        propose(task_run(state_row("RUNNING"), run_count=1, empirical_policy={"retries": 1}), "FAILED"),
        propose(task_run(state_row("SCHEDULED", details={"scheduled_time": "2030-01-01T00:00:00Z"})), "RUNNING"),
    ],
    ids=["accept", "abort", "reject", "wait"],
)
def test_result_body_parses_with_the_client_model(outcome: TransitionOutcome) -> None:
    parsed: ClientOrchestrationResult[Any] = ClientOrchestrationResult.model_validate(outcome.result_body())

    assert parsed.status.value == outcome.status
    assert parsed.state is not None
    assert outcome.response_state is not None
    assert parsed.state.id == outcome.response_state["id"]

"""Bookkeeping applied to every transition that writes a state, whatever the policy (Prefect's global policies).

Each transform runs after the rules, in list order, and only when a state is going to be written. Recording the
state's id, type, name and timestamp on the run (SetRunStateType, SetRunStateName, SetRunStateTimestamp) happens when
the outcome is built, in `policies.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from baton.server.orchestration.context import Transition
from baton.states import StateType

Transform = Callable[[Transition], None]

# The smallest step that makes two timestamps differ in the database (both dialects keep microseconds).
TIMESTAMP_STEP = dt.timedelta(microseconds=1)


def ensure_flow_run_state_timestamp_is_unique(t: Transition) -> None:
    """A flow run's states are ordered by timestamp (and unique per run): the new one must come strictly after the
    current one, even when the clock is coarse or has stepped back."""
    assert t.proposed is not None
    if t.initial is not None and t.proposed.timestamp <= t.initial.timestamp:
        t.proposed.timestamp = t.initial.timestamp + TIMESTAMP_STEP


def set_start_time(t: Transition) -> None:
    assert t.proposed is not None
    if t.proposed.type == StateType.RUNNING and t.run.start_time is None:
        t.run.start_time = t.proposed.timestamp


def set_end_time(t: Transition) -> None:
    """End time is set on entering a terminal state and cleared when a (forced or manual) rerun leaves one."""
    assert t.proposed is not None
    if t.initial is not None and t.initial.is_final and not t.proposed.is_final:
        t.run.end_time = None
    if t.proposed.is_final and t.run.end_time is None:
        if t.run.start_time is None:
            # A run that fails before it starts still gets a (zero-length) span.
            t.run.start_time = t.proposed.timestamp
        t.run.end_time = t.proposed.timestamp


def increment_run_time(t: Transition) -> None:
    assert t.proposed is not None
    if t.initial is not None and t.initial.type == StateType.RUNNING:
        t.run.total_run_time += (t.proposed.timestamp - t.initial.timestamp).total_seconds()


def set_expected_start_time(t: Transition) -> None:
    assert t.proposed is not None
    if t.run.expected_start_time is None:
        if t.proposed.type == StateType.SCHEDULED:
            t.run.expected_start_time = t.proposed.details.scheduled_time
        else:
            t.run.expected_start_time = t.proposed.timestamp


def set_next_scheduled_start_time(t: Transition) -> None:
    assert t.proposed is not None
    if t.initial is not None and t.initial.type == StateType.SCHEDULED:
        t.run.next_scheduled_start_time = None
    if t.proposed.type == StateType.SCHEDULED:
        t.run.next_scheduled_start_time = t.proposed.details.scheduled_time


def update_state_details(t: Transition) -> None:
    """Stamp the run references on the state."""
    assert t.proposed is not None
    run = t.snapshot
    if run.kind == "flow_run":
        t.proposed.details.flow_run_id = run.id
    else:
        t.proposed.details.flow_run_id = run.flow_run_id
        t.proposed.details.task_run_id = run.id


def update_subflow_state_details(t: Transition) -> None:
    """A subflow's states point at the task run that tracks it in the parent flow."""
    assert t.proposed is not None
    if t.snapshot.parent_task_run_id is not None:
        t.proposed.details.task_run_id = t.snapshot.parent_task_run_id


def increment_flow_run_count(t: Transition) -> None:
    """Count entries into RUNNING (retries compare against it); resuming from a pause is not a new attempt."""
    assert t.proposed is not None
    if t.proposed.type == StateType.RUNNING and not t.run.empirical_policy.get("resuming"):
        t.run.run_count += 1


def remove_resuming_indicator(t: Transition) -> None:
    assert t.proposed is not None
    if (t.proposed.type == StateType.RUNNING or t.proposed.is_final) and t.run.empirical_policy.get("resuming"):
        t.run.empirical_policy["resuming"] = False


def increment_task_run_count(t: Transition) -> None:
    assert t.proposed is not None
    if t.proposed.type == StateType.RUNNING:
        t.run.run_count += 1


COMMON_TRANSFORMS: list[Transform] = [
    set_start_time,
    set_end_time,
    increment_run_time,
    set_expected_start_time,
    set_next_scheduled_start_time,
    update_state_details,
]

# UpdateSubflowParentTask (copying a subflow's state onto its tracking task run) writes another run, so the caller
# does it with `policies.subflow_parent_task_state`.
FLOW_TRANSFORMS: list[Transform] = [
    ensure_flow_run_state_timestamp_is_unique,
    *COMMON_TRANSFORMS,
    update_subflow_state_details,
    increment_flow_run_count,
    remove_resuming_indicator,
]

TASK_TRANSFORMS: list[Transform] = [*COMMON_TRANSFORMS, increment_task_run_count]


def apply_transforms(t: Transition, transforms: list[Transform]) -> None:
    """Run `transforms` in order unless the transition writes nothing."""
    for transform in transforms:
        if t.proposed is None:
            return
        transform(t)

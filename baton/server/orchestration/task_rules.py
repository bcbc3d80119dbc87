"""Rules for task run transitions (Prefect's CoreTaskPolicy and BackgroundTaskPolicy).

Tag concurrency slots (SecureTaskConcurrencySlots, ReleaseTaskConcurrencySlots) need counters in the database; they
are handled by the concurrency module, not by these pure rules.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from baton.server.orchestration.context import TERMINAL_STATES, Rule, Transition, WorkingState
from baton.server.orchestration.flow_rules import has_persisted_result
from baton.server.schemas.states import StateDetails
from baton.states import AWAITING_RETRY, CACHED, RERUNNING, RETRYING, StateType

S = StateType

# Prefect's default PREFECT_SERVER_TASKS_MAX_CACHE_KEY_LENGTH; also the width of the cache_key columns.
MAX_CACHE_KEY_LENGTH = 2000


class CacheRetrieval(Rule):
    """A task about to run whose cache key has an unexpired cached result is answered with that result."""

    TO_STATES = frozenset({S.RUNNING})

    def before(self, t: Transition) -> None:
        if t.proposed is None:
            return
        cached = t.context.cached_state
        details = t.proposed.details
        if details.cache_key and not details.refresh_cache and cached is not None:
            state = WorkingState.from_row(cached).fresh_copy(t.now)
            state.name = CACHED
            t.reject(state, "Retrieved state from cache")


class HandleTaskTerminalStateTransitions(Rule):
    """A finished task may rerun (its retry count restarts) unless its result is persisted; it may not be marked
    crashed, paused or cancelling. A rerun because the flow is retrying is named Retrying."""

    FROM_STATES = TERMINAL_STATES

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        self.original_run_count = t.run.run_count
        if t.proposed.type in {S.CANCELLING, S.PAUSED, S.CRASHED}:
            t.abort(f"Run is already {t.initial.type.value}.")
            return
        if t.initial.type == S.COMPLETED and t.initial.data and has_persisted_result(t.initial.data):
            t.reject(None, "This run is already completed.")
            return
        if not t.proposed.is_final:
            t.run.run_count = 0
        parent = t.context.parent_flow_run
        if t.proposed.type == S.RUNNING and t.snapshot.flow_run_id is not None and parent is not None:
            if t.run.flow_run_run_count < (parent.get("run_count") or 0):
                t.rename(RETRYING)

    def cleanup(self, t: Transition) -> None:
        if hasattr(self, "original_run_count"):
            t.run.run_count = self.original_run_count


class PreventRunningTasksFromStoppedFlows(Rule):
    """Tasks run only while their flow runs; in a paused flow they wait (NotReady) for the resume."""

    TO_STATES = frozenset({S.RUNNING})

    def before(self, t: Transition) -> None:
        parent = t.context.parent_flow_run
        if parent is None:
            return
        parent_type = parent.get("state_type")
        if parent_type is None:
            t.abort("The enclosing flow must be running to begin task execution.")
        elif StateType(parent_type) == S.PAUSED:
            parent_details = StateDetails.model_validate(parent.get("state_details") or {})
            not_ready = WorkingState.new(
                S.PAUSED,
                t.now,
                name="NotReady",
                details=StateDetails(
                    pause_timeout=parent_details.pause_timeout,
                    pause_reschedule=parent_details.pause_reschedule,
                ),
            )
            t.reject(
                not_ready,
                f"The flow is paused, new tasks can execute after resuming flow run: {t.snapshot.flow_run_id}.",
            )
        elif StateType(parent_type) != S.RUNNING:
            t.abort("The enclosing flow must be running to begin task execution.")


class RetryFailedTasks(Rule):
    """A failed attempt with retries left (and not marked non-retriable by the client) becomes AwaitingRetry after
    `retry_delay` (one value, or one per attempt with the last repeated), jittered by `retry_jitter_factor`."""

    FROM_STATES = frozenset({S.RUNNING})
    TO_STATES = frozenset({S.FAILED})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        policy = t.run.empirical_policy
        run_count = t.run.run_count
        delay = task_retry_delay(policy, run_count, t.context.rng)
        if t.proposed.details.retriable is False:
            return
        retries = _task_retries(policy)
        if retries is not None and run_count <= retries:
            retry_state = WorkingState.new(
                S.SCHEDULED,
                t.now,
                name=AWAITING_RETRY,
                message=t.proposed.message,
                data=t.proposed.data,
                details=StateDetails(scheduled_time=t.now + dt.timedelta(seconds=delay)),
            )
            t.reject(retry_state, "Retrying")


def task_retry_delay(policy: dict[str, Any], run_count: int, rng: random.Random) -> float:
    """Seconds before retry number `run_count`: the configured delay for that attempt, jittered."""
    delay = policy.get("retry_delay")
    if not delay and policy.get("retry_delay_seconds"):
        delay = policy["retry_delay_seconds"]
    if isinstance(delay, list):
        base = float(delay[min(run_count - 1, len(delay) - 1)]) if delay else 0.0
    else:
        base = float(delay or 0)
    jitter = policy.get("retry_jitter_factor")
    if jitter and base > 0:
        return clamped_poisson_interval(base, float(jitter), rng)
    return base


def clamped_poisson_interval(average: float, clamping_factor: float, rng: random.Random) -> float:
    """A random interval averaging about `average` and at most `average * (1 + clamping_factor)`: an exponential
    variate restricted to bounds that keep the median where it was (Prefect's `clamped_poisson_interval`)."""
    upper_multiple = 1 + clamping_factor
    lower_multiple = 0.0 if upper_multiple >= 50 else math.log(2**upper_multiple / (2**upper_multiple - 1), 2)
    upper_rv = 1 - math.exp(-upper_multiple)
    lower_rv = 1 - math.exp(-max(0.0, lower_multiple))
    return -math.log(max(1 - rng.uniform(lower_rv, upper_rv), 1e-10)) * average


def _task_retries(policy: dict[str, Any]) -> int | None:
    if not policy.get("retries") and policy.get("max_retries"):
        return int(policy["max_retries"])
    retries = policy.get("retries")
    return None if retries is None else int(retries)


class RenameReruns(Rule):
    """A task entering RUNNING again is named Retrying (after AwaitingRetry) or Rerunning."""

    TO_STATES = frozenset({S.RUNNING})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        if t.run.run_count > 0:
            t.rename(RETRYING if t.initial.name == AWAITING_RETRY else RERUNNING)


class UpdateFlowRunTrackerOnTasks(Rule):
    """Record which attempt of its flow run the task ran in (HandleTaskTerminalStateTransitions compares it)."""

    TO_STATES = frozenset({S.RUNNING})

    def after(self, t: Transition) -> None:
        parent = t.context.parent_flow_run
        if t.proposed is not None and t.snapshot.flow_run_id is not None and parent is not None:
            t.run.flow_run_run_count = parent.get("run_count") or 0


class CacheInsertion(Rule):
    """A COMPLETED state with a cache key is added to the cache; an over-long key is refused (the state is still
    written, as proposed, but not cached)."""

    TO_STATES = frozenset({S.COMPLETED})

    def before(self, t: Transition) -> None:
        if t.proposed is None:
            return
        self.rejected = False
        cache_key = t.proposed.details.cache_key
        if cache_key and len(cache_key) > MAX_CACHE_KEY_LENGTH:
            self.rejected = True
            t.reject(
                t.proposed,
                f"Cache key exceeded maximum allowed length of {MAX_CACHE_KEY_LENGTH} characters.",
            )

    def after(self, t: Transition) -> None:
        if t.proposed is None or getattr(self, "rejected", False):
            return
        if t.proposed.details.cache_key:
            t.cache_insert = {
                "cache_key": t.proposed.details.cache_key,
                "cache_expiration": t.proposed.details.cache_expiration,
            }


class CopyTaskParametersID(Rule):
    """A deferred task's parameters id follows it from Scheduled to Pending to Running."""

    FROM_STATES = frozenset({S.SCHEDULED, S.PENDING})
    TO_STATES = frozenset({S.PENDING, S.RUNNING})

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        if t.proposed.details.task_parameters_id is None:
            t.proposed.details.task_parameters_id = t.initial.details.task_parameters_id


class EnqueueScheduledTasks(Rule):
    """A deferred task that becomes SCHEDULED goes to the task workers' queue (again, after AwaitingRetry)."""

    TO_STATES = frozenset({S.SCHEDULED})

    def after(self, t: Transition) -> None:
        if t.proposed is None or not t.proposed.details.deferred:
            return
        t.task_queue_action = "retry" if t.proposed.name == AWAITING_RETRY else "enqueue"

"""Decisions of metric triggers, without I/O: whether a metric value breaches, which resources a trigger groups its
runs by, and how the state of one (trigger, resource) pair moves when it is evaluated at a moment.

A pair is quiet (no state), *breaching* (the comparison holds since `since`), *triggered* (it held for `firing_for`
and fired Triggered) or *resolving* (triggered, and the comparison stopped holding at `since`). Breaching for
`firing_for` fires Triggered; resolving for `firing_for` fires Resolved and the pair is quiet again. A breach that
stops before `firing_for` (flapping) leaves no trace, and so does a recovery that breaches again: the clock starts
over. No data (no runs in the window) counts as "the comparison does not hold", as an absent series does in
Prometheus: a triggered lateness trigger resolves when runs stop being late because there are no runs any more."""

from __future__ import annotations

import datetime as dt
import enum
import fnmatch
import operator
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from baton.server.schemas.automations import MetricOperator, MetricTrigger, ResourceSpecification, TriggerState
from baton.server.schemas.event_filters import label_patterns

# The bucketing key of a trigger that evaluates all its matching runs as one group.
ALL_RUNS = "*"
# The kinds of resources a flow run relates to that a trigger can group its runs by, in order of preference when
# `match_related` names several: the first one named is the grouping.
GROUPING_KINDS = ("deployment", "flow", "work-pool", "work-queue")

_COMPARISONS: dict[MetricOperator, Callable[[float, float], bool]] = {
    MetricOperator.LT: operator.lt,
    MetricOperator.LTE: operator.le,
    MetricOperator.GT: operator.gt,
    MetricOperator.GTE: operator.ge,
}


class Phase(enum.StrEnum):
    BREACHING = "breaching"
    TRIGGERED = "triggered"
    RESOLVING = "resolving"


@dataclass(frozen=True)
class MetricState:
    """The state of one (trigger, resource) pair: `since` is when the current phase's condition began to hold,
    `breach_start` when the breach that is (or was) firing began (it names the episode in firing keys)."""

    phase: Phase
    since: dt.datetime
    breach_start: dt.datetime
    triggered_at: dt.datetime | None = None


@dataclass(frozen=True)
class Decision:
    """The pair's next state (None: quiet, forget it) and the trigger state to fire now, if any."""

    state: MetricState | None
    fire: TriggerState | None = None


def breaches(value: float | None, metric_operator: MetricOperator, threshold: float) -> bool:
    """Whether `value` (None: no runs in the window) compared to `threshold` by `metric_operator` holds."""
    return value is not None and _COMPARISONS[metric_operator](value, threshold)


def decide(state: MetricState | None, breaching: bool, now: dt.datetime, firing_for: dt.timedelta) -> Decision:
    """Where the pair in `state` goes when evaluated at `now` with the comparison holding (`breaching`) or not.
    Fires at most once per transition: a Triggered pair only fires again after it resolved."""
    if state is None:
        if not breaching:
            return Decision(None)
        state = MetricState(Phase.BREACHING, since=now, breach_start=now)
    if state.phase == Phase.BREACHING:
        if not breaching:
            return Decision(None)
        if now - state.since >= firing_for:
            return Decision(replace(state, phase=Phase.TRIGGERED, triggered_at=now), TriggerState.TRIGGERED)
        return Decision(state)
    if breaching:
        return Decision(replace(state, phase=Phase.TRIGGERED, since=state.breach_start))
    if state.phase == Phase.TRIGGERED:
        state = replace(state, phase=Phase.RESOLVING, since=now)
    if now - state.since >= firing_for:
        return Decision(None, TriggerState.RESOLVED)
    return Decision(state)


def firing_key(trigger_id: uuid.UUID, resource: str, breach_start: dt.datetime, state: TriggerState) -> str:
    """The firing's idempotency key: one Triggered and one Resolved per breach of one resource."""
    return f"metric:{trigger_id}:{resource}:{breach_start.isoformat()}:{state.value}"


def _targeted_kind(spec: ResourceSpecification) -> str | None:
    """The one grouping kind that `spec` can only name (by its role, or by the prefix of all its ids), if any."""
    roles = label_patterns(spec.get("prefect.resource.role", []))
    if roles and len(set(roles)) == 1 and roles[0] in GROUPING_KINDS:
        return roles[0]
    ids = label_patterns(spec.get("prefect.resource.id", []))
    for kind in GROUPING_KINDS:
        if ids and all(pattern.startswith(f"prefect.{kind}.") for pattern in ids):
            return kind
    return None


def specifications(trigger: MetricTrigger) -> tuple[ResourceSpecification, list[ResourceSpecification]]:
    """What the trigger's runs must meet: (labels of the flow run itself, specifications of its related resources,
    all of which must be met). A `match` naming deployments, flows, work pools or work queues (not flow runs) is
    read as one more related specification: the resource whose runs are measured."""
    related = trigger.related_specifications()
    if trigger.match and _targeted_kind(trigger.match) is not None:
        return {}, [trigger.match, *related]
    return trigger.match, related


def grouping_kind(trigger: MetricTrigger) -> str | None:
    """The kind of resource the trigger evaluates each of separately: the first of deployment, flow, work pool and
    work queue that its related specifications name; None means one evaluation over all matching runs."""
    named = {_targeted_kind(spec) for spec in specifications(trigger)[1]}
    return next((kind for kind in GROUPING_KINDS if kind in named), None)


def kinds_a_spec_may_name(spec: ResourceSpecification, kinds: tuple[str, ...]) -> list[str]:
    """The kinds of `kinds` a related resource matching `spec` can be: those its role and id patterns allow (a
    negated pattern allows every kind; the caller checks each resource's labels anyway)."""
    roles = label_patterns(spec.get("prefect.resource.role", []))
    ids = label_patterns(spec.get("prefect.resource.id", []))
    return [
        kind
        for kind in kinds
        if (not roles or any(_may_match(pattern, kind) for pattern in roles))
        and (not ids or any(_may_match(pattern, f"prefect.{kind}.x") for pattern in ids))
    ]


def _may_match(pattern: str, value: str) -> bool:
    if pattern.startswith("!"):
        return True
    return fnmatch.fnmatchcase(value, pattern) or pattern.startswith(value.removesuffix("x"))

"""Decisions of metric triggers: a breach fires Triggered once it held for `firing_for`, a recovery fires Resolved
once it held for `firing_for`, and a condition that flaps before that fires nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from baton.server.automations.metric_triggers import (
    Decision,
    MetricState,
    Phase,
    breaches,
    decide,
    firing_key,
    grouping_kind,
    kinds_a_spec_may_name,
    specifications,
)
from baton.server.schemas.automations import MetricOperator, MetricTrigger, TriggerState

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
FIVE_MINUTES = dt.timedelta(minutes=5)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def run(steps: list[tuple[float, bool]]) -> list[tuple[float, Phase | None, TriggerState | None]]:
    """Evaluate a series of (seconds after T0, breaching) and return each step's phase and firing."""
    state: MetricState | None = None
    seen = []
    for seconds, breaching in steps:
        decision = decide(state, breaching, at(seconds), FIVE_MINUTES)
        state = decision.state
        seen.append((seconds, state.phase if state else None, decision.fire))
    return seen


@pytest.mark.parametrize(
    ("value", "operator", "threshold", "expected"),
    [
        (0.5, MetricOperator.LT, 0.9, True),
        (0.9, MetricOperator.LT, 0.9, False),
        (0.9, MetricOperator.LTE, 0.9, True),
        (121.0, MetricOperator.GT, 120.0, True),
        (120.0, MetricOperator.GT, 120.0, False),
        (120.0, MetricOperator.GTE, 120.0, True),
        (None, MetricOperator.LT, 0.9, False),
        (None, MetricOperator.GTE, 0.0, False),
    ],
    ids=["lt", "lt-equal", "lte-equal", "gt", "gt-equal", "gte-equal", "no-data-lt", "no-data-gte"],
)
def test_breaches_compares_the_value_with_the_threshold(
    value: float | None, operator: MetricOperator, threshold: float, expected: bool
) -> None:
    assert breaches(value, operator, threshold) is expected


def test_a_breach_fires_triggered_once_it_held_for_firing_for() -> None:
    assert run([(0, True), (150, True), (299, True), (300, True), (330, True), (900, True)]) == [
        (0, Phase.BREACHING, None),
        (150, Phase.BREACHING, None),
        (299, Phase.BREACHING, None),
        (300, Phase.TRIGGERED, TriggerState.TRIGGERED),
        (330, Phase.TRIGGERED, None),
        (900, Phase.TRIGGERED, None),
    ]


def test_a_breach_shorter_than_firing_for_fires_nothing_and_leaves_no_state() -> None:
    assert run([(0, True), (299, True), (300, False)]) == [
        (0, Phase.BREACHING, None),
        (299, Phase.BREACHING, None),
        (300, None, None),
    ]


def test_a_recovery_fires_resolved_once_it_held_for_firing_for() -> None:
    steps = [(0, True), (300, True), (400, False), (699, False), (700, False), (730, False)]
    assert run(steps) == [
        (0, Phase.BREACHING, None),
        (300, Phase.TRIGGERED, TriggerState.TRIGGERED),
        (400, Phase.RESOLVING, None),
        (699, Phase.RESOLVING, None),
        (700, None, TriggerState.RESOLVED),
        (730, None, None),
    ]


def test_flapping_restarts_the_clock_each_way() -> None:
    steps = [
        (0, True),
        (200, False),  # the breach stopped before firing_for: forgotten
        (230, True),
        (500, True),  # 270 s into the new breach: not yet
        (530, True),  # 300 s: fires
        (600, False),
        (800, True),  # recovered for 200 s only: still triggered, no second firing
        (900, False),
        (1199, False),
        (1200, False),  # recovered for 300 s: resolves
    ]
    assert [(seconds, fire) for seconds, _, fire in run(steps) if fire] == [
        (530, TriggerState.TRIGGERED),
        (1200, TriggerState.RESOLVED),
    ]
    assert run(steps)[6][1] == Phase.TRIGGERED


def test_a_triggered_state_keeps_the_breach_start_for_its_firing_keys() -> None:
    decision = decide(MetricState(Phase.BREACHING, since=at(0), breach_start=at(0)), True, at(300), FIVE_MINUTES)
    assert decision == Decision(
        MetricState(Phase.TRIGGERED, since=at(0), breach_start=at(0), triggered_at=at(300)), TriggerState.TRIGGERED
    )
    trigger_id = uuid.UUID(int=1)
    triggered = firing_key(trigger_id, "prefect.deployment.x", at(0), TriggerState.TRIGGERED)
    resolved = firing_key(trigger_id, "prefect.deployment.x", at(0), TriggerState.RESOLVED)
    assert triggered == f"metric:{trigger_id}:prefect.deployment.x:2026-01-01T12:00:00+00:00:Triggered"
    assert resolved != triggered
    assert firing_key(trigger_id, "prefect.deployment.x", at(600), TriggerState.TRIGGERED) != triggered


def _trigger(match_related: object) -> MetricTrigger:
    return MetricTrigger.model_validate(
        {
            "match_related": match_related,
            "metric": {"name": "successes", "operator": "<", "threshold": 0.9},
        }
    )


@pytest.mark.parametrize(
    ("match_related", "expected"),
    [
        ({}, None),
        ({"prefect.resource.role": "deployment"}, "deployment"),
        ({"prefect.resource.id": "prefect.deployment.*"}, "deployment"),
        ({"prefect.resource.id": ["prefect.flow.a", "prefect.flow.b"]}, "flow"),
        ({"prefect.resource.role": "work-pool", "prefect.resource.name": "prod"}, "work-pool"),
        ({"prefect.resource.id": "prefect.tag.nightly"}, None),
        ([{"prefect.resource.id": "prefect.tag.prod"}, {"prefect.resource.id": "prefect.flow.x"}], "flow"),
        ({"prefect.resource.id": ["prefect.flow.a", "prefect.deployment.b"]}, None),
    ],
    ids=["none", "role", "id-glob", "flow-ids", "pool-by-name", "tag", "tag-and-flow", "mixed-kinds"],
)
def test_the_grouping_follows_the_kind_match_related_names(match_related: object, expected: str | None) -> None:
    assert grouping_kind(_trigger(match_related)) == expected


def test_a_match_naming_deployments_measures_their_runs() -> None:
    trigger = MetricTrigger.model_validate(
        {
            "match": {"prefect.resource.id": "prefect.deployment.*"},
            "match_related": {"prefect.resource.id": "prefect.tag.prod"},
            "metric": {"name": "successes", "operator": "<", "threshold": 0.9},
        }
    )
    assert specifications(trigger) == (
        {},
        [{"prefect.resource.id": "prefect.deployment.*"}, {"prefect.resource.id": "prefect.tag.prod"}],
    )
    assert grouping_kind(trigger) == "deployment"
    runs = _trigger({})
    runs.match = {"prefect.resource.id": "prefect.flow-run.*"}
    assert specifications(runs) == ({"prefect.resource.id": "prefect.flow-run.*"}, [])
    assert grouping_kind(runs) is None


def test_a_spec_may_name_the_kinds_its_role_and_ids_allow() -> None:
    kinds = ("deployment", "flow", "work-pool", "work-queue", "tag")
    assert kinds_a_spec_may_name({"prefect.resource.id": "prefect.deployment.1"}, kinds) == ["deployment"]
    assert kinds_a_spec_may_name({"prefect.resource.role": "work-*"}, kinds) == ["work-pool", "work-queue"]
    assert kinds_a_spec_may_name({"prefect.resource.name": "etl"}, kinds) == list(kinds)
    assert kinds_a_spec_may_name({"prefect.resource.id": "*"}, kinds) == list(kinds)
    assert kinds_a_spec_may_name({"prefect.resource.id": "prefect.task-run.1"}, kinds) == []

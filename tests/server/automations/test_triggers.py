"""The trigger engine's pure decisions: matching, bucketing keys, Prefect's bucket evaluation, proactive resolution
and composite readiness."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from baton.server.automations.triggers import (
    Bucket,
    ChildFiring,
    ObservedEvent,
    bucketing_key,
    composite_firing_key,
    composite_ready,
    count_within,
    covers,
    expects,
    expire,
    firing_key,
    proactive_bucket,
    react,
)
from baton.server.schemas.automations import CompoundTrigger, EventTrigger, SequenceTrigger, TriggerState

T0 = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def event(
    name: str,
    seconds: float = 0,
    resource: dict[str, str] | None = None,
    related: list[dict[str, str]] | None = None,
    number: int | None = None,
) -> ObservedEvent:
    return ObservedEvent.from_json(
        {
            "id": str(uuid.UUID(int=number if number is not None else int(seconds * 1000) + 1)),
            "occurred": at(seconds).isoformat(),
            "event": name,
            "resource": resource or {"prefect.resource.id": "prefect.flow-run.1"},
            "related": related or [],
        }
    )


def trigger(**fields: Any) -> EventTrigger:
    return EventTrigger.model_validate({"posture": "Reactive", **fields})


FLOW_RUN = {"prefect.resource.id": "prefect.flow-run.1", "prefect.resource.name": "brisk-otter", "env": "prod"}
RELATED = [
    {"prefect.resource.id": "prefect.flow.9", "prefect.resource.role": "flow", "prefect.resource.name": "etl"},
    {"prefect.resource.id": "prefect.tag.nightly", "prefect.resource.role": "tag"},
]


@pytest.mark.parametrize(
    ("fields", "name", "expected"),
    [
        ({}, "anything.at.all", True),
        ({"expect": ["prefect.flow-run.Failed"]}, "prefect.flow-run.Failed", True),
        ({"expect": ["prefect.flow-run.Failed"]}, "prefect.flow-run.Completed", False),
        ({"expect": ["prefect.flow-run.*"]}, "prefect.flow-run.Crashed", True),
        ({"expect": ["prefect.flow-run.*"]}, "prefect.task-run.Failed", False),
        ({"expect": ["b"], "after": ["a"]}, "a", True),
        ({"match": {"prefect.resource.id": "prefect.flow-run.*"}}, "x", True),
        ({"match": {"prefect.resource.id": "prefect.deployment.*"}}, "x", False),
        ({"match": {"env": ["dev", "prod"]}}, "x", True),
        ({"match": {"env": "!prod"}}, "x", False),
        ({"match": {"missing": "*"}}, "x", False),
        ({"match_related": {"prefect.resource.role": "flow", "prefect.resource.name": "etl"}}, "x", True),
        ({"match_related": {"prefect.resource.role": "flow", "prefect.resource.name": "other"}}, "x", False),
        ({"match_related": {"prefect.resource.role": "tag", "prefect.resource.name": "etl"}}, "x", False),
        (
            {
                "match_related": [
                    {"prefect.resource.role": "flow", "prefect.resource.id": "prefect.flow.9"},
                    {"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.nightly"},
                ]
            },
            "x",
            True,
        ),
        (
            {
                "match_related": [
                    {"prefect.resource.role": "flow", "prefect.resource.id": "prefect.flow.9"},
                    {"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.hourly"},
                ]
            },
            "x",
            False,
        ),
    ],
    ids=[
        "empty-expect-any",
        "expect-exact",
        "expect-other",
        "expect-glob",
        "expect-glob-other",
        "after-name",
        "match-glob",
        "match-glob-other",
        "match-list",
        "match-negated",
        "match-missing-label",
        "related-role-and-name",
        "related-wrong-name",
        "related-wrong-role",
        "related-all-specs",
        "related-one-spec-fails",
    ],
)
def test_covers(fields: dict[str, Any], name: str, expected: bool) -> None:
    assert covers(trigger(**fields), event(name, resource=FLOW_RUN, related=RELATED)) is expected


@pytest.mark.parametrize(
    ("expect", "name", "expected"),
    [
        (["prefect.task-run.Completed"], "prefect.task-run.Completed", True),
        (["prefect.task-run.*"], "prefect.task-run.Completed", True),
        (["a[b]"], "a[b]", False),  # a character class: matches "ab", not its own text
        (["a[b]"], "ab", True),
        (["!x"], "x", False),  # a negation: anything but "x"
        (["!x"], "y", True),
    ],
    ids=["exact", "glob", "class-not-itself", "class", "negation-excludes", "negation"],
)
def test_expects_takes_listed_names_as_globs(expect: list[str], name: str, expected: bool) -> None:
    assert expects(trigger(expect=expect), name) is expected


@pytest.mark.parametrize(
    ("for_each", "expected"),
    [
        ([], ()),
        (["prefect.resource.id"], ("prefect.flow-run.1",)),
        (["related:flow:prefect.resource.name", "env"], ("prod", "etl")),
        (["related:deployment:prefect.resource.id"], ("",)),
        (["nope"], ("",)),
    ],
    ids=["none", "primary", "related-sorted", "missing-role", "missing-label"],
)
def test_bucketing_key(for_each: list[str], expected: tuple[str, ...]) -> None:
    assert bucketing_key(trigger(for_each=for_each), event("x", resource=FLOW_RUN, related=RELATED)) == expected


def run(t: EventTrigger, events: list[ObservedEvent], bucket: Bucket | None = None) -> tuple[Bucket | None, list[Any]]:
    decisions = []
    for each in events:
        evaluation = react(t, bucket, each)
        bucket = evaluation.bucket
        decisions.extend(evaluation.decisions)
    return bucket, decisions


@pytest.mark.parametrize(
    ("fields", "events", "fired_by"),
    [
        ({"expect": ["x"], "threshold": 2, "within": 60}, [("x", 0)], []),
        ({"expect": ["x"], "threshold": 2, "within": 60}, [("x", 0), ("x", 10)], [10]),
        # After firing, the next window starts when this one ends: an event inside it is spent.
        ({"expect": ["x"], "threshold": 2, "within": 60}, [("x", 0), ("x", 10), ("x", 20), ("x", 30)], [10]),
        ({"expect": ["x"], "threshold": 2, "within": 60}, [("x", 0), ("x", 10), ("x", 70), ("x", 80)], [10, 80]),
        # An event after the window counts in the next one.
        ({"expect": ["x"], "threshold": 2, "within": 60}, [("x", 0), ("x", 61), ("x", 100)], [100]),
        ({"expect": ["x"]}, [("x", 0), ("x", 1), ("y", 2)], [0, 1]),
        ({"expect": ["x"], "threshold": 2}, [("x", 0), ("x", 1)], []),
        ({"expect": ["b"], "after": ["a"], "within": 60}, [("b", 0)], []),
        ({"expect": ["b"], "after": ["a"], "within": 60}, [("a", 0), ("b", 10), ("b", 20)], [10]),
        ({"expect": ["b"], "after": ["a"], "within": 60}, [("a", 0), ("b", 70)], []),
        ({"expect": ["b"], "after": ["a"], "within": 60}, [("a", 0), ("b", 10), ("a", 20), ("b", 30)], [10, 30]),
        # The same event arming and expected: the arming one does not count itself.
        ({"expect": ["hb"], "after": ["hb"], "within": 60}, [("hb", 0)], []),
        ({"expect": ["hb"], "after": ["hb"], "within": 60}, [("hb", 0), ("hb", 10)], [10]),
    ],
    ids=[
        "threshold-not-met",
        "threshold-met",
        "window-after-firing",
        "fires-again-next-window",
        "late-event-next-window",
        "immediate-each-event",
        "immediate-ignores-threshold-above-one",
        "after-not-armed",
        "after-armed-once",
        "after-window-passed",
        "after-rearmed",
        "same-event-after-and-expect",
        "same-event-fires-on-second",
    ],
)
def test_reactive_decisions(fields: dict[str, Any], events: list[tuple[str, float]], fired_by: list[float]) -> None:
    t = trigger(**fields)
    _, decisions = run(t, [event(name, seconds) for name, seconds in events])
    assert [d.state for d in decisions] == [TriggerState.TRIGGERED] * len(fired_by)
    assert [d.occurred for d in decisions] == [at(s) for s in fired_by]
    assert [d.triggering_event["occurred"] for d in decisions] == [at(s).isoformat() for s in fired_by]


def proactive(**fields: Any) -> EventTrigger:
    return EventTrigger.model_validate({"posture": "Proactive", "within": 30, **fields})


def test_proactive_with_after_fires_when_the_window_closes_empty_and_resolves_on_the_expected_event() -> None:
    t = proactive(after=["started"], expect=["finished"])
    bucket, decisions = run(t, [event("started", 0)])
    assert decisions == [] and bucket is not None and (bucket.start, bucket.end) == (at(0), at(30))
    assert expire(t, bucket, at(29)).decisions == []
    closed = expire(t, bucket, at(31))
    assert [d.state for d in closed.decisions] == [TriggerState.TRIGGERED]
    assert closed.decisions[0].triggering_event is not None  # the arming event
    dormant = closed.bucket
    assert dormant is not None and dormant.dormant and dormant.triggered_at == at(31)
    assert expire(t, dormant, at(100)).decisions == []  # a dormant bucket never fires again
    resolved, decisions = run(t, [event("finished", 40)], dormant)
    assert [d.state for d in decisions] == [TriggerState.RESOLVED] and resolved is None


def test_proactive_with_after_and_the_expected_event_in_time_never_fires() -> None:
    t = proactive(after=["started"], expect=["finished"])
    bucket, _ = run(t, [event("started", 0), event("finished", 10)])
    assert bucket is not None and bucket.count == 1
    assert expire(t, bucket, at(31)).bucket is None
    assert expire(t, bucket, at(31)).decisions == []


def test_proactive_without_after_watches_from_the_first_pass_and_fires_each_empty_window() -> None:
    t = proactive(expect=["tick"])
    bucket = proactive_bucket(t, None, at(0))
    assert bucket is not None and (bucket.start, bucket.end) == (at(0), at(30))
    first = expire(t, bucket, at(31))
    assert [d.state for d in first.decisions] == [TriggerState.TRIGGERED]
    assert first.bucket is not None and (first.bucket.start, first.bucket.triggered_at) == (at(31), at(31))
    again = expire(t, first.bucket, at(62))
    assert [d.state for d in again.decisions] == [TriggerState.TRIGGERED]
    assert again.decisions[0].identity != first.decisions[0].identity
    assert again.bucket is not None
    resolved, decisions = run(t, [event("tick", 70)], again.bucket)
    assert [d.state for d in decisions] == [TriggerState.RESOLVED]
    assert resolved is not None and resolved.count == 1 and resolved.triggered_at is None
    assert expire(t, resolved, at(200)).decisions == []  # met its threshold: dropped, not fired


def test_proactive_heartbeats_restart_the_window() -> None:
    t = proactive(after=["hb"], expect=["hb"])
    bucket, _ = run(t, [event("hb", 0), event("hb", 20)])
    assert bucket is not None and (bucket.start, bucket.end, bucket.count) == (at(20), at(50), 0)
    assert expire(t, bucket, at(40)).decisions == []
    assert [d.state for d in expire(t, bucket, at(51)).decisions] == [TriggerState.TRIGGERED]


def test_proactive_for_each_without_after_opens_buckets_from_events_only() -> None:
    t = proactive(expect=["tick"], for_each=["prefect.resource.id"])
    assert proactive_bucket(t, None, at(0)) is None


def test_firing_keys_are_deterministic_and_distinct() -> None:
    tid = uuid.UUID(int=7)
    assert firing_key(tid, ("a",), "event:1") == firing_key(tid, ("a",), "event:1")
    assert (
        len(
            {firing_key(tid, ("a",), "event:1"), firing_key(tid, ("b",), "event:1"), firing_key(tid, ("a",), "event:2")}
        )
        == 3
    )
    assert len(firing_key(tid, ("x" * 3000,), "event:1")) < 100


def _children(n: int) -> list[dict[str, Any]]:
    return [{"type": "event", "posture": "Reactive", "expect": [f"e{i}"]} for i in range(n)]


@pytest.mark.parametrize(
    ("require", "fired", "ready"),
    [
        ("any", [0], True),
        ("all", [0, 1], False),
        ("all", [0, 1, 2], True),
        (2, [2], False),
        (2, [2, 0], True),
        (2, [1, 1], False),
    ],
    ids=["any", "all-missing-one", "all", "two-of-three-one", "two-of-three", "two-same-child"],
)
def test_compound_ready(require: Any, fired: list[int], ready: bool) -> None:
    parent = CompoundTrigger.model_validate({"type": "compound", "require": require, "triggers": _children(3)})
    firings = [ChildFiring(parent.triggers[i].id, at(n), f"k{n}") for n, i in enumerate(fired)]
    assert composite_ready(parent, firings) is ready


@pytest.mark.parametrize(
    ("order", "ready"),
    [([0, 1, 2], True), ([1, 0, 2], False), ([0, 1], False)],
    ids=["in-order", "out-of-order", "incomplete"],
)
def test_sequence_ready(order: list[int], ready: bool) -> None:
    parent = SequenceTrigger.model_validate({"type": "sequence", "triggers": _children(3)})
    firings = [ChildFiring(parent.triggers[i].id, at(n), f"k{n}") for n, i in enumerate(order)]
    assert composite_ready(parent, firings) is ready
    assert composite_firing_key(parent, firings) == composite_firing_key(parent, list(reversed(firings)))


@pytest.mark.parametrize(
    ("fields", "names", "applies"),
    [
        ({"expect": ["x"], "threshold": 10, "within": 600}, ["x", "x", "x"], True),
        ({"expect": ["x"], "threshold": 4, "within": 600}, ["x", "x", "x"], False),
        ({"expect": ["x"], "threshold": 10, "within": 600}, ["x", "y", "x"], False),
        ({"expect": ["x"], "threshold": 10, "within": 10}, ["x", "x", "x"], False),
        ({"expect": ["x"], "after": ["a"], "threshold": 10, "within": 600}, ["x", "x"], False),
        ({"expect": ["x"], "threshold": 10}, ["x"], False),
    ],
    ids=["inside-window", "reaches-threshold", "unexpected-name", "beyond-window", "after", "immediate"],
)
def test_count_within_is_react_one_event_at_a_time_when_it_applies(
    fields: dict[str, Any], names: list[str], applies: bool
) -> None:
    t = trigger(**fields)
    opened = Bucket(at(-900), at(0) + t.within, 1)
    events = [event(name, 5 * (n + 1)) for n, name in enumerate(names)]
    fast = count_within(t, opened, events)
    assert (fast is not None) is applies
    if fast is not None:
        slow, decisions = run(t, events, opened)
        assert decisions == [] and fast == slow

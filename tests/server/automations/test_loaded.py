"""The engine's parsed view of the automations: which events any trigger may look at, decided without decoding a
batch's JSON text when no trigger can."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from baton.server.automations.loaded import LoadedAutomations, _add


def loaded(*expects: list[str]) -> LoadedAutomations:
    snapshot = LoadedAutomations()
    for expect in expects:
        trigger = {
            "type": "compound",
            "require": "any",
            "triggers": [{"type": "event", "posture": "Reactive", "expect": expect}],
        }
        _add(snapshot, {"id": uuid.uuid4(), "trigger": trigger})
    return snapshot


@pytest.mark.parametrize(
    ("expects", "text", "expected"),
    [
        ([], orjson.dumps([{"event": "x"}]).decode(), False),
        ([["y"]], orjson.dumps([{"event": "x"}, {"event": "z"}]).decode(), False),
        ([["y"]], orjson.dumps([{"event": "x"}, {"event": "y"}]).decode(), True),
        ([["prefect.flow-run.*"]], '[{"id": 1, "event" : "prefect.flow-run.Failed"}]', True),
        ([["a.b"]], '[{"event": "a\\u002eb"}]', True),
        ([["y"]], orjson.dumps([{"event": "x", "payload": {"triggering_event": {"event": "y"}}}]).decode(), True),
        ([[]], orjson.dumps([{"event": "anything"}]).decode(), True),
    ],
    ids=["no-automations", "no-name", "a-name", "spaces-and-glob", "escaped-name", "nested-name", "empty-expect"],
)
def test_may_interest(expects: list[list[str]], text: str, expected: bool) -> None:
    snapshot = loaded(*expects)
    assert snapshot.may_interest(text) is expected
    if not expected:
        assert snapshot.interesting(orjson.loads(text)) == []


def test_interesting_keeps_the_events_a_trigger_may_look_at_and_children_know_their_parent() -> None:
    snapshot = loaded(["y"], ["z.*"])
    events = [{"event": "x"}, {"event": "y"}, {"event": "z.1"}]
    assert snapshot.interesting(events) == events[1:]
    assert {parent.type for parent in snapshot.parents.values()} == {"compound"}
    assert all(snapshot.ancestors(trigger_id) for trigger_id in snapshot.triggers)


def test_interesting_leaves_out_events_whose_resources_no_trigger_matches() -> None:
    snapshot = LoadedAutomations()
    trigger = {
        "type": "event",
        "posture": "Reactive",
        "expect": ["prefect.flow-run.*"],
        "match_related": {"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.nightly"},
    }
    _add(snapshot, {"id": uuid.uuid4(), "trigger": trigger})
    tagged = {
        "event": "prefect.flow-run.Failed",
        "resource": {"prefect.resource.id": "prefect.flow-run.1"},
        "related": [{"prefect.resource.id": "prefect.tag.nightly", "prefect.resource.role": "tag"}],
    }
    untagged = {"event": "prefect.flow-run.Failed", "resource": {"prefect.resource.id": "prefect.flow-run.2"}}
    assert snapshot.interesting([untagged, tagged]) == [tagged]


@pytest.mark.parametrize(
    ("related", "text_has", "expected"),
    [
        ({"prefect.resource.id": "prefect.tag.critical"}, "prefect.tag.bench", False),
        ({"prefect.resource.id": "prefect.tag.critical"}, "prefect.tag.critical", True),
        ({"prefect.resource.id": ["prefect.tag.a", "prefect.tag.critical"]}, "prefect.tag.critical", True),
        ({"prefect.resource.id": "prefect.tag.crit*"}, "prefect.tag.bench", True),
        ({"prefect.resource.id": "!prefect.tag.critical"}, "prefect.tag.bench", True),
        ({"prefect.resource.id": "a/b"}, "prefect.tag.bench", True),
    ],
    ids=["plain-absent", "plain-present", "one-of-list", "glob", "negated", "escapable"],
)
def test_may_interest_looks_for_the_plain_values_a_trigger_needs(
    related: dict[str, Any], text_has: str, expected: bool
) -> None:
    snapshot = LoadedAutomations()
    trigger = {"type": "event", "posture": "Reactive", "expect": ["prefect.task-run.*"], "match_related": related}
    _add(snapshot, {"id": uuid.uuid4(), "trigger": trigger})
    event = {
        "event": "prefect.task-run.Completed",
        "resource": {"prefect.resource.id": "prefect.task-run.1"},
        "related": [{"prefect.resource.id": text_has, "prefect.resource.role": "tag"}],
    }
    assert snapshot.may_interest(orjson.dumps([event]).decode()) is expected

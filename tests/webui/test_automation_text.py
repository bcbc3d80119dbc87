"""Automations in words: each trigger form's JSON, composite and metric triggers, actions, and resource links."""

from __future__ import annotations

from typing import Any

import pytest

from baton.webui.automation_text import describe_action, describe_actions, describe_trigger, resource_page

FLOW = "0b7e0c1e-0000-4000-8000-000000000001"
DEPLOYMENT = "0b7e0c1e-0000-4000-8000-000000000002"
POOL = "0b7e0c1e-0000-4000-8000-000000000003"
NAMES = {FLOW: "etl", DEPLOYMENT: "etl/nightly", POOL: "pool-a"}


def _event(**values: Any) -> dict[str, Any]:
    return {"type": "event", "posture": "Reactive", "match": {}, "match_related": {}, "after": [], "expect": [],
            "for_each": [], "threshold": 1, "within": 0, **values}  # fmt: skip


FLOW_RUNS = {"prefect.resource.id": "prefect.flow-run.*"}
TAGS = {"prefect.resource.role": "tag", "prefect.resource.id": ["prefect.tag.a", "prefect.tag.b"]}
OF_DEPLOYMENT = {"prefect.resource.role": "deployment", "prefect.resource.id": [f"prefect.deployment.{DEPLOYMENT}"]}
CASES = [
    (_event(match=FLOW_RUNS, expect=["prefect.flow-run.Failed", "prefect.flow-run.Crashed"]),
     "When a flow run enters Crashed or Failed"),
    (_event(match=FLOW_RUNS, expect=["prefect.flow-run.*"]), "When a flow run enters any state"),
    (_event(match=FLOW_RUNS, expect=["prefect.flow-run.Failed"],
            match_related=[{"prefect.resource.role": "flow", "prefect.resource.id": [f"prefect.flow.{FLOW}"]},
                           TAGS]),
     "When a flow run for flow etl and tags a, b enters Failed"),
    (_event(match=FLOW_RUNS, posture="Proactive", after=["prefect.flow-run.Running"], expect=["prefect.flow-run.*"],
            within=600), "When a flow run stays in Running for 10m 0s"),
    (_event(match={"prefect.resource.id": [f"prefect.work-pool.{POOL}"]},
            expect=["prefect.work-pool.not-ready", "prefect.work-pool.not_ready"]),
     "When work pool pool-a becomes not ready"),
    (_event(match={"prefect.resource.id": "prefect.deployment.*"}, posture="Proactive",
            after=["prefect.deployment.not-ready"], expect=["prefect.deployment.ready"], within=30),
     "When any deployment stays not ready for 30.0s"),
    (_event(posture="Proactive", after=["etl.started"], expect=["etl.finished"], within=3600),
     "When, after etl.started, no etl.finished arrives within 1h 0m 0s"),
    (_event(expect=["x.y"], threshold=3, within=60, match={"prefect.resource.id": "my.*"}),
     "When 3 × x.y for resources matching my.* arrive within 1m 0s"),
    ({"type": "metric", "posture": "Metric", "match": FLOW_RUNS,
      "match_related": OF_DEPLOYMENT,
      "metric": {"name": "duration", "operator": ">", "threshold": 120, "range": 3600, "firing_for": 300}},
     "When the run duration (s) for deployment etl/nightly over 1h 0m 0s is > 120 for 5m 0s"),
    (_event(match={"prefect.resource.id": "prefect.work-pool.*"}, expect=["x.y"]),
     "When x.y for resources matching prefect.work-pool.* arrive"),
    ({"type": "sequence", "within": None, "triggers": [_event(expect=["a"]), _event(expect=["b"])]},
     "When in order 2 triggers fire: When a arrive; When b arrive"),
]  # fmt: skip


@pytest.mark.parametrize(("trigger", "words"), CASES, ids=[f"trigger-{index}" for index in range(len(CASES))])
def test_triggers_in_words(trigger: dict[str, Any], words: str) -> None:
    assert describe_trigger(trigger, NAMES) == words


def test_actions_in_words() -> None:
    actions: list[dict[str, Any]] = [
        {"type": "run-deployment", "source": "selected", "deployment_id": DEPLOYMENT, "parameters": {"day": "x"}},
        {"type": "pause-work-pool", "source": "inferred", "work_pool_id": None},
        {"type": "change-flow-run-state", "state": "CANCELLED", "name": None},
        {"type": "send-notification", "block_document_id": POOL, "subject": "Hi", "body": "b"},
        {"type": "delete-flow-run"},
    ]
    assert [describe_action(action, NAMES) for action in actions] == [
        "Run deployment etl/nightly with parameters day",
        "Pause the triggering event's work pool",
        "Change the flow run's state to Cancelled",
        "Send a notification through pool-a: “Hi”",
        "Delete the flow run",
    ]
    assert describe_actions([], NAMES) == "no actions"


def test_resource_pages() -> None:
    assert resource_page(f"prefect.flow-run.{FLOW}") == f"/runs/flow-run/{FLOW}"
    assert resource_page(f"prefect.deployment.{DEPLOYMENT}") == f"/deployments/{DEPLOYMENT}"
    assert resource_page("prefect.task-run.x") is None
    assert resource_page(None) is None

"""`/automations` over real HTTP on SQLite and PostgreSQL: every route and status code as Prefect 3.9's server
answers them, the bodies its client and CLI send (nulls included), and the 422s that name a bad field."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

FAILED_RUNS = {
    "type": "event",
    "match": {"prefect.resource.id": "prefect.flow-run.*"},
    "expect": ["prefect.flow-run.Failed"],
    "posture": "Reactive",
    "threshold": 1,
    "within": 0,
}


def _body(name: str = "on-failure", **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": "",
        "enabled": True,
        "tags": [],
        "trigger": FAILED_RUNS,
        "actions": [{"type": "do-nothing"}],
        "actions_on_trigger": [],
        "actions_on_resolve": [],
        **fields,
    }


async def _create(client: httpx.AsyncClient, name: str = "on-failure", **fields: Any) -> dict[str, Any]:
    response = await client.post("/automations/", json=_body(name, **fields))
    assert response.status_code == 201, response.text
    return response.json()


async def _names(client: httpx.AsyncClient, body: dict[str, Any] | None) -> list[str]:
    response = await client.post("/automations/filter", json=body)
    assert response.status_code == 200, response.text
    return [automation["name"] for automation in response.json()]


async def _count(client: httpx.AsyncClient, body: dict[str, Any] | None) -> int:
    response = await client.post("/automations/count", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def _deployment(client: httpx.AsyncClient, name: str) -> str:
    flow_id = (await client.post("/flows/", json={"name": f"flow-{name}"})).json()["id"]
    response = await client.post("/deployments/", json={"name": name, "flow_id": flow_id})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_create_gives_fresh_trigger_ids_and_reads_back(client: httpx.AsyncClient) -> None:
    chosen = str(uuid.uuid4())
    child = {**FAILED_RUNS, "id": str(uuid.uuid4())}
    trigger = {"type": "compound", "id": chosen, "require": "all", "within": 60, "triggers": [child, FAILED_RUNS]}
    created = await _create(client, trigger=trigger, tags=["ops"], description="when runs fail")
    assert created["trigger"]["id"] != chosen
    assert created["trigger"]["triggers"][0]["id"] != child["id"]
    assert created["trigger"]["within"] == 60.0
    assert created["trigger"]["triggers"][1]["match"] == FAILED_RUNS["match"]
    assert (created["name"], created["tags"], created["description"]) == ("on-failure", ["ops"], "when runs fail")
    assert created["enabled"] is True
    assert created["created"] and created["updated"]
    read = await client.get(f"/automations/{created['id']}")
    assert read.status_code == 200
    assert read.json() == created

    # Two automations created from the same body never share a trigger id.
    again = await _create(client, trigger=trigger)
    assert again["trigger"]["id"] != created["trigger"]["id"]


async def test_trigger_defaults_are_filled_in(client: httpx.AsyncClient) -> None:
    proactive = {"type": "event", "posture": "Proactive", "expect": ["etl.finished"]}
    created = await _create(client, trigger=proactive)
    trigger = created["trigger"]
    assert trigger["within"] == 10.0  # a proactive trigger with no window gets the 10 s minimum
    assert (trigger["threshold"], trigger["after"], trigger["for_each"], trigger["match"]) == (1, [], [], {})
    untyped_metric = {
        "posture": "Metric",
        "metric": {"name": "successes", "threshold": 0.9, "operator": "<", "range": 600, "firing_for": 300},
    }
    metric = (await _create(client, "metric", trigger=untyped_metric))["trigger"]
    assert metric["type"] == "metric"
    assert metric["metric"] == {
        "name": "successes",
        "threshold": 0.9,
        "operator": "<",
        "range": 600.0,
        "firing_for": 300.0,
    }


async def test_put_replaces_with_fresh_trigger_ids_and_patch_toggles(client: httpx.AsyncClient) -> None:
    created = await _create(client, tags=["a"])
    replaced = _body("renamed", enabled=False, tags=["b"], trigger={**FAILED_RUNS, "id": created["trigger"]["id"]})
    response = await client.put(f"/automations/{created['id']}", json=replaced)
    assert response.status_code == 204
    assert response.content == b""
    after = (await client.get(f"/automations/{created['id']}")).json()
    assert (after["name"], after["enabled"], after["tags"]) == ("renamed", False, ["b"])
    assert after["trigger"]["id"] != created["trigger"]["id"]
    assert after["created"] == created["created"]
    assert after["updated"] > created["updated"]

    response = await client.patch(f"/automations/{created['id']}", json={"enabled": True})
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/automations/{created['id']}")).json()["enabled"] is True
    await client.patch(f"/automations/{created['id']}", json={"enabled": False})
    assert (await client.get(f"/automations/{created['id']}")).json()["enabled"] is False
    # PATCH takes only `enabled`.
    response = await client.patch(f"/automations/{created['id']}", json={"name": "other"})
    assert response.status_code == 422
    assert "name" in response.json()["detail"]


async def test_delete_and_404s(client: httpx.AsyncClient) -> None:
    created = await _create(client)
    response = await client.delete(f"/automations/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    missing = created["id"]
    for response in (
        await client.get(f"/automations/{missing}"),
        await client.put(f"/automations/{missing}", json=_body()),
        await client.patch(f"/automations/{missing}", json={"enabled": True}),
        await client.patch(f"/automations/{missing}", json={"enabled": False}),
        await client.delete(f"/automations/{missing}"),
        await client.post(f"/automations/{missing}/firings", json={}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"Automation {missing} does not exist."
    assert await _count(client, None) == 0


async def test_filter_sort_limit_offset_and_count(client: httpx.AsyncClient) -> None:
    first = await _create(client, "bravo", tags=["ops", "nightly"])
    await asyncio.sleep(0.01)
    await _create(client, "alpha", tags=["ops"])
    await asyncio.sleep(0.01)
    await _create(client, "charlie")
    # What the client sends for `prefect automation ls` and `read_automations()`: nulls everywhere.
    assert await _names(client, {"automations": None, "sort": None, "limit": None, "offset": 0}) == [
        "alpha",
        "bravo",
        "charlie",
    ]
    assert await _names(client, None) == ["alpha", "bravo", "charlie"]
    assert await _names(client, {"sort": "NAME_DESC"}) == ["charlie", "bravo", "alpha"]
    assert await _names(client, {"sort": "CREATED_DESC"}) == ["charlie", "alpha", "bravo"]
    assert await _names(client, {"sort": "NAME_ASC", "limit": 1, "offset": 1}) == ["bravo"]
    # What `read_automations_by_name` sends: the full filter with null members.
    by_name = {"id": None, "name": {"any_": ["alpha", "charlie"]}, "created": None, "tags": None}
    assert await _names(client, {"sort": "UPDATED_DESC", "automations": by_name}) == ["charlie", "alpha"]
    assert await _names(client, {"automations": {"id": {"any_": [first["id"]]}}}) == ["bravo"]
    assert await _names(client, {"automations": {"tags": {"all_": ["ops", "nightly"]}}}) == ["bravo"]
    assert await _names(client, {"automations": {"tags": {"any_": ["ops"]}}}) == ["alpha", "bravo"]
    assert await _names(client, {"automations": {"tags": {"is_null_": True}}}) == ["charlie"]
    created_before = {"created": {"before_": first["created"]}}
    assert await _names(client, {"automations": created_before}) == ["bravo"]

    assert await _count(client, None) == 3
    assert await _count(client, {}) == 3
    assert await _count(client, {"automations": None}) == 3
    assert await _count(client, {"automations": {"name": {"any_": ["alpha"]}, "tags": None}}) == 1
    assert await _count(client, {"automations": {"tags": {"any_": ["ops"]}}}) == 2

    # Either criterion with `or_`; unknown top-level keys are ignored as Prefect's body parameters are, while an
    # unknown key inside the filter is refused.
    either = {"operator": "or_", "name": {"any_": ["charlie"]}, "tags": {"all_": ["nightly"]}}
    assert await _names(client, {"automations": either, "flows": None, "page": 1}) == ["bravo", "charlie"]
    assert await _count(client, {"automations": either, "legacy": {"x": 1}}) == 2
    for path in ("/automations/filter", "/automations/count"):
        refused = await client.post(path, json={"automations": {"nickname": {"any_": ["alpha"]}}})
        assert refused.status_code == 422
        assert "body.automations.nickname" in refused.json()["detail"]

    bad = await client.post("/automations/filter", json={"sort": "SIDEWAYS"})
    assert bad.status_code == 422
    assert "sort" in bad.json()["detail"]


async def test_related_to_lists_owned_and_selecting_automations(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(client, "cleanup")
    other = await _deployment(client, "other")
    resource = f"prefect.deployment.{deployment}"
    owned = await _create(client, "owned", owner_resource=resource)
    runs_it = {"type": "run-deployment", "source": "selected", "deployment_id": deployment, "parameters": {}}
    selecting = await _create(client, "selecting", actions=[runs_it])
    await _create(client, "unrelated")

    response = await client.get(f"/automations/related-to/{resource}")
    assert response.status_code == 200
    assert [automation["id"] for automation in response.json()] == [owned["id"], selecting["id"]]
    assert (await client.get(f"/automations/related-to/prefect.deployment.{other}")).json() == []

    # Replacing the selecting automation's action moves its relation to the other deployment.
    moved = {**runs_it, "deployment_id": other}
    assert (await client.put(f"/automations/{selecting['id']}", json=_body("selecting", actions=[moved]))).status_code
    assert [a["name"] for a in (await client.get(f"/automations/related-to/{resource}")).json()] == ["owned"]
    related_other = (await client.get(f"/automations/related-to/prefect.deployment.{other}")).json()
    assert [a["name"] for a in related_other] == ["selecting"]


async def test_owned_by_deletes_only_owned_automations(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(client, "cleanup")
    resource = f"prefect.deployment.{deployment}"
    await _create(client, "owned-1", owner_resource=resource)
    await _create(client, "owned-2", owner_resource=resource)
    runs_it = {"type": "run-deployment", "source": "selected", "deployment_id": deployment}
    await _create(client, "selecting", actions=[runs_it])
    await _create(client, "elsewhere", owner_resource="prefect.deployment.somewhere-else")

    response = await client.delete(f"/automations/owned-by/{resource}")
    assert response.status_code == 202
    assert await _names(client, {}) == ["elsewhere", "selecting"]
    assert [a["name"] for a in (await client.get(f"/automations/related-to/{resource}")).json()] == ["selecting"]
    # Nothing owned: still 202.
    assert (await client.delete("/automations/owned-by/prefect.deployment.nothing")).status_code == 202
    assert await _count(client, None) == 2


@pytest.mark.parametrize("path", ["/automations/templates/validate", "/templates/validate"])
async def test_template_validation(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.post(path, json="Run {{ flow_run.name }} is {{ flow_run.state.name }}")).status_code == 204
    assert (await client.post(path, json="{{ event.id | flow_run_id }}")).status_code == 204
    assert (await client.post(path)).status_code == 204  # no body: the empty template
    source = "line one\n{{ x "
    response = await client.post(path, json=source)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["line"] == 2
    assert error["source"] == source
    assert "end of print statement" in error["message"]
    # Prefect's server only parses, so it takes an unknown filter and the action fails when it renders; Baton
    # compiles the template, so a misspelt filter is refused when the automation is saved.
    response = await client.post(path, json="{{ x | no_such_filter }}")
    assert response.status_code == 422
    assert "no_such_filter" in response.json()["error"]["message"]

    # Prefect's limits on loops: at most 10, nested at most 2 deep; beyond them a 422 at line 0.
    loop = "{% for a in x %}{{ a }}{% endfor %}"
    assert (await client.post(path, json=loop * 10)).status_code == 204
    response = await client.post(path, json=loop * 11)
    assert response.status_code == 422
    assert response.json()["error"] == {
        "line": 0,
        "message": "Contains 11 for loops. Templates can contain no more than 10 for loops.",
        "source": loop * 11,
    }
    two_deep = "{% for a in x %}{% for b in a %}{{ b }}{% endfor %}{% endfor %}"
    assert (await client.post(path, json=two_deep)).status_code == 204
    three_deep = "{% for a in x %}{% for b in a %}{% for c in b %}{{ c }}{% endfor %}{% endfor %}{% endfor %}"
    response = await client.post(path, json=three_deep)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "Contains nested for loops at a depth of 3. Templates can nest for loops no more than 2 loops deep."
    )


def _trigger(**changes: Any) -> dict[str, Any]:
    return {**FAILED_RUNS, **changes}


BAD_BODIES = {
    "proactive-within-under-10s": (
        {"trigger": _trigger(posture="Proactive", within=5)},
        ["body.trigger", "10 seconds"],
    ),
    "zero-threshold": ({"trigger": _trigger(threshold=0)}, ["body.trigger.event.threshold"]),
    "compound-require-too-many": (
        {"trigger": {"type": "compound", "require": 3, "triggers": [FAILED_RUNS, FAILED_RUNS]}},
        ["body.trigger.compound", "less than or equal to the number of triggers"],
    ),
    "compound-require-zero": (
        {"trigger": {"type": "compound", "require": 0, "triggers": [FAILED_RUNS]}},
        ["body.trigger.compound", "at least 1"],
    ),
    "compound-without-children": (
        {"trigger": {"type": "compound", "require": "any", "triggers": []}},
        ["body.trigger.compound.triggers"],
    ),
    "unknown-trigger-type": ({"trigger": _trigger(type="telepathy")}, ["body.trigger", "telepathy"]),
    "metric-range-too-short": (
        {"trigger": {"type": "metric", "metric": {"name": "duration", "threshold": 1, "operator": ">", "range": 60}}},
        ["body.trigger.metric.metric.range", "300 seconds"],
    ),
    "unknown-action-type": ({"actions": [{"type": "launch-rocket"}]}, ["body.actions.0", "launch-rocket"]),
    "no-action-list": ({"actions": None}, ["body.actions"]),
    "inferred-deployment-loop": (
        {
            "trigger": _trigger(expect=["prefect.flow-run.Running"]),
            "actions": [{"type": "run-deployment", "source": "inferred"}],
        },
        ["body: Value error, Running an inferred deployment from a flow run state change event will lead to an"],
    ),
    "selected-deployment-loop": (
        {
            "trigger": _trigger(expect=["prefect.flow-run.*"]),
            "actions": [{"type": "run-deployment", "source": "selected", "deployment_id": str(uuid.UUID(int=2))}],
        },
        ["body: Value error, Running a selected deployment from a flow run state change event may lead to"],
    ),
    "selected-without-id": (
        {"actions": [{"type": "pause-deployment", "source": "selected"}]},
        ["body.actions.0.pause-deployment", "deployment_id is required"],
    ),
    "inferred-with-id": (
        {"actions": [{"type": "pause-work-pool", "source": "inferred", "work_pool_id": str(uuid.UUID(int=1))}]},
        ["body.actions.0.pause-work-pool", "work_pool_id is not allowed"],
    ),
    "notification-body-template": (
        {
            "actions_on_trigger": [
                {"type": "send-notification", "block_document_id": str(uuid.UUID(int=1)), "body": "{{ x "}
            ]
        },
        ["body.actions_on_trigger.0.body", "not a valid template (line 1)"],
    ),
    "webhook-payload-template": (
        {"actions": [{"type": "call-webhook", "block_document_id": str(uuid.UUID(int=1)), "payload": "{% if %}"}]},
        ["body.actions.0.payload", "not a valid template"],
    ),
    "webhook-payload-too-many-loops": (
        {
            "actions": [
                {
                    "type": "call-webhook",
                    "block_document_id": str(uuid.UUID(int=1)),
                    "payload": "{% for a in x %}{{ a }}{% endfor %}" * 11,
                }
            ]
        },
        ["body.actions.0.payload", "no more than 10 for loops"],
    ),
    "run-deployment-parameter-template": (
        {"actions": [{"type": "run-deployment", "source": "inferred", "parameters": {"a": {"b": ["{{ oops"]}}}]},
        ["body.actions.0.parameters.a.b.0"],
    ),
    "extra-key": ({"colour": "blue"}, ["body.colour", "Extra inputs are not permitted"]),
    "bad-name": ({"name": ""}, ["body.name"]),
}


@pytest.mark.parametrize("changes,expected", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
async def test_bad_automations_are_422_naming_the_field(
    client: httpx.AsyncClient, changes: dict[str, Any], expected: list[str]
) -> None:
    response = await client.post("/automations/", json=_body(**changes))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    for fragment in expected:
        assert fragment in detail, detail
    existing = await _create(client, "existing")
    replaced = await client.put(f"/automations/{existing['id']}", json=_body(**changes))
    assert replaced.status_code == 422, replaced.text
    assert expected[0] in replaced.json()["detail"]
    assert await _names(client, None) == ["existing"]


async def test_firings_list_is_empty_for_a_new_automation(client: httpx.AsyncClient) -> None:
    created = await _create(client)
    response = await client.post(f"/automations/{created['id']}/firings", json={"limit": 5})
    assert response.status_code == 200
    assert response.json() == []


async def test_created_before_excludes_later_automations(client: httpx.AsyncClient) -> None:
    earlier = await _create(client, "earlier")
    cutoff = dt.datetime.fromisoformat(earlier["created"]) + dt.timedelta(microseconds=1)
    await asyncio.sleep(0.01)
    await _create(client, "later")
    body = {"automations": {"created": {"before_": cutoff.isoformat()}}}
    assert await _names(client, body) == ["earlier"]
    assert await _count(client, body) == 1


async def test_an_automation_may_have_no_actions_but_on_trigger(client: httpx.AsyncClient) -> None:
    created = await _create(client, actions=[], actions_on_trigger=[{"type": "do-nothing"}])
    assert (created["actions"], created["actions_on_trigger"]) == ([], [{"type": "do-nothing"}])


async def test_run_deployment_loops_are_refused_only_when_enabled_and_unfiltered(client: httpx.AsyncClient) -> None:
    """Prefect refuses an enabled reactive automation whose run-deployment action would make the very flow runs
    that fire it; a narrower match, another event, a proactive posture or a disabled automation is accepted."""
    deployment = str(uuid.UUID(int=2))
    selected = [{"type": "run-deployment", "source": "selected", "deployment_id": deployment}]
    inferred = [{"type": "run-deployment", "source": "inferred"}]
    running = _trigger(expect=["prefect.flow-run.Running"])
    narrowed = {**running, "match_related": {"prefect.resource.id": "prefect.flow.*", "prefect.resource.role": "flow"}}
    accepted = {
        "selected-narrowed-by-related": {"trigger": narrowed, "actions": selected},
        "selected-narrowed-by-match": {
            "trigger": {
                **running,
                "match": {"prefect.resource.id": "prefect.flow-run.*", "prefect.resource.name": "x"},
            },
            "actions": selected,
        },
        "on-failed": {"trigger": _trigger(expect=["prefect.flow-run.Failed"]), "actions": inferred},
        "proactive": {"trigger": {**running, "posture": "Proactive", "within": 60}, "actions": inferred},
        "disabled": {"trigger": running, "actions": inferred, "enabled": False},
    }
    for name, fields in accepted.items():
        await _create(client, name, **fields)

    disabled = (await client.post("/automations/filter", json={"automations": {"name": {"any_": ["disabled"]}}})).json()
    response = await client.patch(f"/automations/{disabled[0]['id']}", json={"enabled": True})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body.enabled: Value error, Running an inferred deployment")
    assert (await client.get(f"/automations/{disabled[0]['id']}")).json()["enabled"] is False
    assert (await client.patch(f"/automations/{disabled[0]['id']}", json={"enabled": False})).status_code == 204


async def test_a_webhook_payload_object_is_stored_as_indented_text(client: httpx.AsyncClient) -> None:
    """Older Prefect UIs send the payload as a JSON object; Prefect keeps its text, indented by two spaces."""
    webhook = {"type": "call-webhook", "block_document_id": str(uuid.UUID(int=1))}
    payload = {"message": "{{ flow_run.name }} failed", "n": [1, 2]}
    created = await _create(client, actions=[{**webhook, "payload": payload}, webhook])
    assert created["actions"][0]["payload"] == (
        '{\n  "message": "{{ flow_run.name }} failed",\n  "n": [\n    1,\n    2\n  ]\n}'
    )
    assert created["actions"][1]["payload"] == ""

"""The routes Prefect's UI calls for bulk actions, lateness, the run graph and saved searches, over raw HTTP: the
same bodies get the same status codes and answer shapes. Run against the real Prefect server with
BATON_ACCEPTANCE_SERVER=prefect to check that the assertions describe Prefect's behaviour.

On one database: the server tests run these routes' SQL on both (test_bulk_operations.py, test_flow_run_graph.py,
test_saved_searches.py)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow
ONE_DATABASE = "postgresql"


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _flow(api: httpx.Client) -> str:
    return _ok(api.post("/flows/", json={"name": f"ui-routes-{uuid.uuid4().hex[:8]}"}), 201)["id"]


def test_bulk_delete_and_set_state_answer_in_prefects_shapes(api: httpx.Client) -> None:
    flow_id = _flow(api)
    tag = uuid.uuid4().hex
    runs = [_ok(api.post("/flow_runs/", json={"flow_id": flow_id, "tags": [tag]}), 201)["id"] for _ in range(3)]
    by_tag = {"flow_runs": {"tags": {"all_": [tag]}}}

    changed = _ok(api.post("/flow_runs/bulk_set_state", json={**by_tag, "state": {"type": "CANCELLED"}}))
    assert sorted(result["flow_run_id"] for result in changed["results"]) == sorted(runs)
    assert {result["status"] for result in changed["results"]} == {"ACCEPT"}
    assert {result["state"]["type"] for result in changed["results"]} == {"CANCELLED"}
    assert {result["details"]["type"] for result in changed["results"]} == {"accept_details"}

    assert api.post("/flow_runs/bulk_delete", json={**by_tag, "limit": 51}).status_code == 422
    assert api.post("/flow_runs/bulk_set_state", json=by_tag).status_code == 422  # no state
    deleted = _ok(api.post("/flow_runs/bulk_delete", json={**by_tag, "limit": 2}))
    assert len(deleted["deleted"]) == 2 and set(deleted["deleted"]) <= set(runs)
    assert _ok(api.post("/flow_runs/count", json=by_tag)) == 1

    lateness = _ok(api.post("/flow_runs/lateness", json=by_tag))
    assert lateness == 0 or lateness is None or isinstance(lateness, float)
    assert _ok(api.post("/flow_runs/lateness", json={"flow_runs": {"id": {"any_": [str(uuid.uuid4())]}}})) is None

    name = f"ui-routes-{uuid.uuid4().hex[:8]}"
    assert _ok(api.post("/deployments/", json={"flow_id": flow_id, "name": name}), 201)
    gone = _ok(api.post("/deployments/bulk_delete", json={"deployments": {"name": {"any_": [name]}}}))
    assert len(gone["deleted"]) == 1
    flows = _ok(api.post("/flows/bulk_delete", json={"flows": {"id": {"any_": [flow_id]}}}))
    assert flows == {"deleted": [flow_id]}
    assert api.get(f"/flows/{flow_id}").status_code == 404


def test_bulk_create_from_a_deployment(api: httpx.Client) -> None:
    flow_id = _flow(api)
    deployment = _ok(api.post("/deployments/", json={"flow_id": flow_id, "name": "bulk", "parameters": {"n": 1}}), 201)
    path = f"/deployments/{deployment['id']}/create_flow_run/bulk"
    created = _ok(api.post(path, json=[{}, {"parameters": {"n": 2}, "name": "second"}]))
    assert [result["status"] for result in created["results"]] == ["CREATED", "CREATED"]
    assert all(result["error"] is None for result in created["results"])
    second = _ok(api.get(f"/flow_runs/{created['results'][1]['flow_run_id']}"))
    assert (second["name"], second["parameters"], second["state"]["type"]) == ("second", {"n": 2}, "SCHEDULED")
    too_many = api.post(path, json=[{}] * 101)
    assert too_many.status_code == 400
    assert too_many.json()["detail"] == "Cannot create more than 100 flow runs at once."
    assert api.post(f"/deployments/{uuid.uuid4()}/create_flow_run/bulk", json=[]).status_code == 404


def test_graph_v2_and_graph(api: httpx.Client) -> None:
    flow_id = _flow(api)
    run = _ok(api.post("/flow_runs/", json={"flow_id": flow_id}), 201)
    task = {"flow_run_id": run["id"], "task_key": "a", "dynamic_key": "0", "name": "a-0", "state": {"type": "RUNNING"}}
    first = _ok(api.post("/task_runs/", json=task), 201)
    second_body = {
        **task,
        "task_key": "b",
        "name": "b-0",
        "task_inputs": {"x": [{"input_type": "task_run", "id": first["id"]}]},
    }
    second = _ok(api.post("/task_runs/", json=second_body), 201)

    graph = _ok(api.get(f"/flow_runs/{run['id']}/graph-v2"))
    assert set(graph) == {"start_time", "end_time", "root_node_ids", "nodes", "artifacts", "states"}
    nodes = dict(graph["nodes"])
    assert set(nodes) == {first["id"], second["id"]}
    assert set(nodes[first["id"]]) == {
        "kind",
        "id",
        "label",
        "state_type",
        "start_time",
        "end_time",
        "parents",
        "children",
        "encapsulating",
        "artifacts",
    }
    assert nodes[second["id"]]["parents"] == [{"id": first["id"]}]
    assert nodes[first["id"]]["children"] == [{"id": second["id"]}]
    assert graph["root_node_ids"] == [first["id"]]
    assert [state["type"] for state in graph["states"]] == ["PENDING"]
    assert _ok(api.get(f"/flow_runs/{run['id']}/graph-v2", params={"since": "2999-01-01T00:00:00Z"}))["nodes"] != []
    assert api.get(f"/flow_runs/{uuid.uuid4()}/graph-v2").status_code == 404
    assert api.get(f"/flow_runs/{run['id']}/graph-v2", params={"since": "never"}).status_code == 422

    dependencies = {item["id"]: item for item in _ok(api.get(f"/flow_runs/{run['id']}/graph"))}
    assert dependencies[second["id"]]["upstream_dependencies"] == [{"input_type": "task_run", "id": first["id"]}]
    assert dependencies[first["id"]]["state"]["type"] == "RUNNING"


def test_saved_searches(api: httpx.Client) -> None:
    name = f"search-{uuid.uuid4().hex[:8]}"
    one = {"object": "flow_run", "property": "state", "type": "string", "operation": "any", "value": ["FAILED"]}
    created = _ok(api.put("/saved_searches/", json={"name": name, "filters": [one]}), 201)
    assert created["filters"] == [one]
    replaced = _ok(api.put("/saved_searches/", json={"name": name, "filters": []}), 200)
    assert replaced["id"] == created["id"] and replaced["filters"] == []
    assert _ok(api.get(f"/saved_searches/{created['id']}"))["name"] == name
    assert name in [search["name"] for search in _ok(api.post("/saved_searches/filter", json={}))]
    assert api.put("/saved_searches/", json={"filters": []}).status_code == 422
    assert api.delete(f"/saved_searches/{created['id']}").status_code == 204
    assert api.get(f"/saved_searches/{created['id']}").status_code == 404
    assert api.delete(f"/saved_searches/{created['id']}").status_code == 404

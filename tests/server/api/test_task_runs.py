"""Task runs over REST, and the subflow parent-task link, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


async def _flow_run(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    flow_id = (await client.post("/flows/", json={"name": "parent"})).json()["id"]
    return (await client.post("/flow_runs/", json={"flow_id": flow_id, **body})).json()


async def _task_run(client: httpx.AsyncClient, flow_run_id: str | None, key: str = "t", **body: Any) -> httpx.Response:
    return await client.post(
        "/task_runs/", json={"flow_run_id": flow_run_id, "task_key": key, "dynamic_key": "0", **body}
    )


async def test_create_is_idempotent_on_flow_run_task_key_and_dynamic_key(client: httpx.AsyncClient) -> None:
    flow_run = await _flow_run(client)
    chosen = str(uuid.uuid4())
    first = await _task_run(client, flow_run["id"], id=chosen, name="extract-0")
    assert first.status_code == 201, first.text
    assert first.json()["id"] == chosen
    assert first.json()["state"]["type"] == "PENDING"
    again = await _task_run(client, flow_run["id"])
    assert again.status_code == 200
    assert again.json()["id"] == chosen
    assert (await client.get(f"/task_runs/{chosen}")).json()["name"] == "extract-0"


async def test_task_states_follow_the_task_policy(client: httpx.AsyncClient) -> None:
    flow_run = await _flow_run(client)
    task = (await _task_run(client, flow_run["id"], empirical_policy={"retries": 1, "retry_delay": 0})).json()
    blocked = await client.post(f"/task_runs/{task['id']}/set_state", json={"state": {"type": "RUNNING"}})
    assert blocked.json()["status"] == "ABORT"  # the parent flow run is not running
    await client.post(f"/flow_runs/{flow_run['id']}/set_state", json={"state": {"type": "RUNNING"}})
    running = await client.post(f"/task_runs/{task['id']}/set_state", json={"state": {"type": "RUNNING"}})
    assert running.status_code == 201 and running.json()["status"] == "ACCEPT"
    failed = await client.post(f"/task_runs/{task['id']}/set_state", json={"state": {"type": "FAILED"}})
    assert failed.json()["state"]["name"] == "AwaitingRetry"
    again = await client.post(f"/task_runs/{task['id']}/set_state", json={"state": {"type": "RUNNING"}})
    assert again.json()["state"]["name"] == "Retrying"
    done = await client.post(f"/task_runs/{task['id']}/set_state", json={"state": {"type": "COMPLETED"}})
    assert done.json()["status"] == "ACCEPT"
    history = (await client.get("/task_run_states/", params={"task_run_id": task["id"]})).json()
    assert [s["name"] for s in history] == ["Pending", "Running", "AwaitingRetry", "Retrying", "Completed"]
    read = (await client.get(f"/task_runs/{task['id']}")).json()
    assert read["run_count"] == 2 and read["flow_run_run_count"] == 1
    one = (await client.get(f"/task_run_states/{history[0]['id']}")).json()
    assert one["name"] == "Pending"


async def test_subflow_states_are_copied_to_the_parent_task(client: httpx.AsyncClient) -> None:
    parent = await _flow_run(client)
    tracker = (await _task_run(client, parent["id"], key="child", name="child-0")).json()
    child = await _flow_run(client, parent_task_run_id=tracker["id"])
    await client.post(f"/flow_runs/{child['id']}/set_state", json={"state": {"type": "RUNNING"}})
    await client.post(f"/flow_runs/{child['id']}/set_state", json={"state": {"type": "COMPLETED"}})
    task = (await client.get(f"/task_runs/{tracker['id']}")).json()
    assert task["state"]["type"] == "COMPLETED"
    assert task["state"]["state_details"]["child_flow_run_id"] == child["id"]
    history = (await client.get("/task_run_states/", params={"task_run_id": tracker["id"]})).json()
    assert [s["type"] for s in history] == ["PENDING", "PENDING", "RUNNING", "COMPLETED"]
    children = await client.post(
        "/flow_runs/filter", json={"flow_runs": {"parent_task_run_id": {"any_": [tracker["id"]]}}}
    )
    assert [r["id"] for r in children.json()] == [child["id"]]


async def test_filter_update_delete(client: httpx.AsyncClient) -> None:
    flow_run = await _flow_run(client)
    ids = [(await _task_run(client, flow_run["id"], key=k)).json()["id"] for k in ("a", "b")]
    assert (await client.patch(f"/task_runs/{ids[0]}", json={"name": "renamed"})).status_code == 204
    found = await client.post("/task_runs/filter", json={"task_runs": {"name": {"any_": ["renamed"]}}})
    assert [t["id"] for t in found.json()] == [ids[0]]
    count = await client.post("/task_runs/count", json={"flow_runs": {"id": {"any_": [flow_run["id"]]}}})
    assert count.json() == 2
    assert (await client.delete(f"/task_runs/{ids[1]}")).status_code == 204
    assert (await client.get(f"/task_runs/{ids[1]}")).status_code == 404
    unknown = await _task_run(client, str(uuid.uuid4()))
    assert unknown.status_code == 404
    missing_key = await client.post("/task_runs/", json={"dynamic_key": "0"})
    assert missing_key.status_code == 422 and "task_key" in missing_key.text


async def test_create_answers_the_run_exactly_as_a_read_returns_it(client: httpx.AsyncClient) -> None:
    """The create response is built without reading the run back; it must not differ from a read."""
    flow_run = await _flow_run(client)
    created = await _task_run(client, flow_run["id"], tags=["x"], empirical_policy={"retries": 2})
    assert created.status_code == 201
    read = (await client.get(f"/task_runs/{created.json()['id']}")).json()
    created_body = created.json()
    for body in (created_body, read):
        body.pop("estimated_start_time_delta")
    assert created_body == read


async def test_a_task_waits_while_its_flow_run_is_paused_and_may_not_start_in_a_finished_one(
    client: httpx.AsyncClient,
) -> None:
    flow_run = await _flow_run(client)
    task_run = (await _task_run(client, flow_run["id"])).json()

    async def propose(path: str, state: dict[str, Any]) -> dict[str, Any]:
        return (await client.post(f"{path}/set_state", json={"state": state})).json()

    assert (await propose(f"/flow_runs/{flow_run['id']}", {"type": "RUNNING"}))["status"] == "ACCEPT"
    deadline = "2031-05-04T03:02:01Z"
    paused = {"type": "PAUSED", "state_details": {"pause_key": "p", "pause_timeout": deadline}}
    assert (await propose(f"/flow_runs/{flow_run['id']}", paused))["status"] == "ACCEPT"
    waiting = await propose(f"/task_runs/{task_run['id']}", {"type": "RUNNING"})
    assert waiting["status"] == "REJECT"
    assert waiting["state"]["name"] == "NotReady"
    assert waiting["state"]["state_details"]["pause_timeout"].startswith("2031-05-04T03:02:01")

    assert (await propose(f"/flow_runs/{flow_run['id']}", {"type": "COMPLETED"}))["status"] == "ACCEPT"
    refused = await propose(f"/task_runs/{task_run['id']}", {"type": "RUNNING"})
    assert refused["status"] == "ABORT"
    assert refused["details"]["reason"] == "The enclosing flow must be running to begin task execution."

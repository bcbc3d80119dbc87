"""Baton's own `POST /task_runs/bulk_delete` and `/task_runs/bulk_set_state` over real HTTP on SQLite and PostgreSQL:
the flow-run bulk endpoints' shapes with `task_runs` for `flow_runs`, the same orchestration as a task run's
`set_state`, the same delete as its `DELETE`, and with authentication on the single task-run routes' permission.
Their limits and 422s are checked with the flow-run ones (test_bulk_operations.py)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton.server.database.engine import Database
from baton.settings import Settings
from tests.server.identities import service_account_key


async def _task_runs(client: httpx.AsyncClient, count: int, **body: Any) -> list[dict[str, Any]]:
    runs = []
    for _ in range(count):
        key = uuid.uuid4().hex[:8]
        response = await client.post("/task_runs/", json={"task_key": "work", "dynamic_key": key, **body})
        assert response.status_code == 201, response.text
        runs.append(response.json())
    return runs


async def _count(client: httpx.AsyncClient, body: dict[str, Any] | None = None) -> int:
    return (await client.post("/task_runs/count", json=body or {})).json()


async def test_bulk_delete_task_runs_by_filter_with_their_states(client: httpx.AsyncClient) -> None:
    flow_id = (await client.post("/flows/", json={"name": "etl"})).json()["id"]
    flow_run = (await client.post("/flow_runs/", json={"flow_id": flow_id})).json()
    old = await _task_runs(client, 3, tags=["old"], flow_run_id=flow_run["id"])
    kept = await _task_runs(client, 2, tags=["new"], flow_run_id=flow_run["id"])
    response = await client.post("/task_runs/bulk_delete", json={"task_runs": {"tags": {"all_": ["old"]}}, "limit": 2})
    assert response.status_code == 200, response.text
    deleted = response.json()["deleted"]
    newest_first = sorted((run["id"] for run in old), reverse=True)
    assert deleted == newest_first[:2]
    assert (await client.get(f"/task_runs/{deleted[0]}")).status_code == 404
    assert (await client.get("/task_run_states/", params={"task_run_id": deleted[0]})).json() == []
    by_flow_run = {"task_runs": {"flow_run_id": {"any_": [flow_run["id"]]}}}
    assert await _count(client, by_flow_run) == 3
    response = await client.post("/task_runs/bulk_delete", json={"task_runs": {"tags": {"all_": ["old"]}}})
    assert response.json() == {"deleted": newest_first[2:]}
    assert {run["id"] for run in (await client.post("/task_runs/filter", json={})).json()} == {r["id"] for r in kept}
    # The flow run stays: only task runs go.
    assert (await client.get(f"/flow_runs/{flow_run['id']}")).status_code == 200
    nothing = await client.post("/task_runs/bulk_delete", json={"task_runs": {"name": {"any_": ["none"]}}})
    assert nothing.json() == {"deleted": []}


async def test_bulk_set_state_orchestrates_each_task_run(client: httpx.AsyncClient) -> None:
    (pending,) = await _task_runs(client, 1, tags=["batch"])
    (done,) = await _task_runs(client, 1, tags=["batch"], state={"type": "COMPLETED"})
    (untouched,) = await _task_runs(client, 1)
    body = {"task_runs": {"tags": {"all_": ["batch"]}}, "state": {"type": "CRASHED", "message": "bulk"}}
    response = await client.post("/task_runs/bulk_set_state", json=body)
    assert response.status_code == 200, response.text
    results = {result.pop("task_run_id"): result for result in response.json()["results"]}
    assert set(results) == {pending["id"], done["id"]}
    accepted = results[pending["id"]]
    assert (accepted["status"], accepted["state"]["type"], accepted["details"]) == (
        "ACCEPT",
        "CRASHED",
        {"type": "accept_details"},
    )
    # A finished task run is not marked crashed: the rule `set_state` applies, with its reason.
    single = await client.post(f"/task_runs/{done['id']}/set_state", json={"state": {"type": "CRASHED"}})
    assert results[done["id"]]["status"] == single.json()["status"] == "ABORT"
    assert results[done["id"]]["state"]["type"] == "COMPLETED"
    assert results[done["id"]]["details"]["reason"]
    crashed = (await client.get(f"/task_runs/{pending['id']}")).json()
    assert (crashed["state"]["type"], crashed["state"]["message"]) == ("CRASHED", "bulk")
    history = (await client.get("/task_run_states/", params={"task_run_id": pending["id"]})).json()
    assert [state["type"] for state in history] == ["PENDING", "CRASHED"]
    assert (await client.get(f"/task_runs/{untouched['id']}")).json()["state"]["type"] == "PENDING"

    # force goes around the rules, as set_state's does; limit takes the newest first.
    body = {"task_runs": {"tags": {"all_": ["batch"]}}, "state": {"type": "CANCELLED"}, "force": True, "limit": 1}
    forced = (await client.post("/task_runs/bulk_set_state", json=body)).json()["results"]
    newest = max(pending["id"], done["id"])
    assert [(result["task_run_id"], result["status"]) for result in forced] == [(newest, "ACCEPT")]
    assert (await client.get(f"/task_runs/{newest}")).json()["state"]["type"] == "CANCELLED"
    nothing = await client.post(
        "/task_runs/bulk_set_state",
        json={"task_runs": {"id": {"any_": [str(uuid.uuid4())]}}, "state": {"type": "RUNNING"}},
    )
    assert nothing.json() == {"results": []}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Authentication on for the tests that ask for it by name."""
    auth = request.node.name.startswith("test_with_auth")
    return Settings(home=tmp_path, api_database_connection_url=database_url, auth_enabled=auth)


async def test_with_auth_the_bulk_routes_need_task_run_write(client: httpx.AsyncClient, database: Database) -> None:
    async with database.write() as connection:
        viewer = await service_account_key(connection, "viewer")
        operator = await service_account_key(connection, "operator")
        developer = await service_account_key(connection, "developer")
    by_tag = {"task_runs": {"tags": {"all_": ["guarded"]}}}
    create = {"task_key": "guarded", "dynamic_key": "0", "tags": ["guarded"]}
    created = await client.post("/task_runs/", json=create, headers=developer.headers)
    assert created.status_code == 201, created.text
    for caller in (viewer, operator):
        for path, body in (
            ("/task_runs/bulk_set_state", {**by_tag, "state": {"type": "RUNNING"}}),
            ("/task_runs/bulk_delete", by_tag),
        ):
            response = await client.post(path, json=body, headers=caller.headers)
            assert response.status_code == 403, (path, response.text)
            assert "task_run:write" in response.json()["detail"]
    assert (await client.post("/task_runs/bulk_delete", json=by_tag)).status_code == 401
    changed = await client.post(
        "/task_runs/bulk_set_state", json={**by_tag, "state": {"type": "RUNNING"}}, headers=developer.headers
    )
    assert [result["status"] for result in changed.json()["results"]] == ["ACCEPT"]
    deleted = await client.post("/task_runs/bulk_delete", json=by_tag, headers=developer.headers)
    assert deleted.json() == {"deleted": [created.json()["id"]]}

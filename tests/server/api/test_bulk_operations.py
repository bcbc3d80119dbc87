"""The bulk endpoints over real HTTP on SQLite and PostgreSQL: bulk deletes, bulk state changes through the
orchestration rules, runs created from a deployment in bulk, and their limits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database


async def _flow(client: httpx.AsyncClient, name: str) -> str:
    return (await client.post("/flows/", json={"name": name})).json()["id"]


async def _run(client: httpx.AsyncClient, flow_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post("/flow_runs/", json={"flow_id": flow_id, **body})
    assert response.status_code == 201, response.text
    return response.json()


async def _count(client: httpx.AsyncClient, what: str, body: dict[str, Any] | None = None) -> int:
    return (await client.post(f"/{what}/count", json=body or {})).json()


async def test_bulk_delete_flows_by_filter_with_their_runs(client: httpx.AsyncClient) -> None:
    keep = await _flow(client, "keep")
    doomed = [await _flow(client, f"doomed-{index}") for index in range(3)]
    for flow_id in [keep, *doomed]:
        await _run(client, flow_id)
    response = await client.post("/flows/bulk_delete", json={"flows": {"name": {"like_": "doomed"}}, "limit": 2})
    assert response.status_code == 200, response.text
    deleted = response.json()["deleted"]
    assert sorted(deleted) == sorted(doomed[:2])  # the first two by name
    assert await _count(client, "flows") == 2
    assert await _count(client, "flow_runs") == 2  # their runs went with them
    assert (await client.post("/flows/bulk_delete", json={"flows": {"name": {"any_": ["none"]}}})).json() == {
        "deleted": []
    }


async def test_bulk_delete_flow_runs_and_deployments(client: httpx.AsyncClient) -> None:
    flow_id = await _flow(client, "etl")
    runs = [await _run(client, flow_id, tags=["old"] if index < 3 else []) for index in range(5)]
    response = await client.post("/flow_runs/bulk_delete", json={"flow_runs": {"tags": {"all_": ["old"]}}})
    assert response.status_code == 200, response.text
    assert sorted(response.json()["deleted"]) == sorted(run["id"] for run in runs[:3])
    assert await _count(client, "flow_runs") == 2
    assert (await client.get(f"/flow_runs/{runs[0]['id']}")).status_code == 404

    for name in ("a", "b", "c"):
        assert (await client.post("/deployments/", json={"flow_id": flow_id, "name": name})).status_code == 201
    response = await client.post("/deployments/bulk_delete", json={"deployments": {"name": {"any_": ["a", "c"]}}})
    assert response.status_code == 200, response.text
    assert len(response.json()["deleted"]) == 2
    names = [deployment["name"] for deployment in (await client.post("/deployments/filter", json={})).json()]
    assert names == ["b"]


async def test_bulk_limits_and_bad_bodies_are_422_with_a_reason(client: httpx.AsyncClient) -> None:
    """The same for flow runs and Baton's own task-run bulk endpoints."""
    running = {"state": {"type": "RUNNING"}}
    for path, body in (
        ("/flows/bulk_delete", {}),
        ("/flow_runs/bulk_delete", {}),
        ("/task_runs/bulk_delete", {}),
        ("/deployments/bulk_delete", {}),
        ("/flow_runs/bulk_set_state", running),
        ("/task_runs/bulk_set_state", running),
    ):
        for limit in (0, 51, "10"):
            response = await client.post(path, json={"limit": limit, **body})
            assert response.status_code == 422, (path, limit, response.text)
            assert "limit" in response.json()["detail"]
    for runs in ("flow_runs", "task_runs"):
        response = await client.post(f"/{runs}/bulk_delete", json={runs: {"nmae": {"any_": ["x"]}}})
        assert response.status_code == 422
        assert "nmae" in response.json()["detail"]
        response = await client.post(f"/{runs}/bulk_set_state", json={runs: {}})
        assert response.status_code == 422
        assert "state" in response.json()["detail"]
        response = await client.post(f"/{runs}/bulk_set_state", json={"state": {"type": "DONE"}})
        assert response.status_code == 422
        assert "type" in response.json()["detail"]


async def test_bulk_delete_with_no_filter_takes_the_default_limit_of_50(client: httpx.AsyncClient) -> None:
    flow_id = await _flow(client, "many")
    for _ in range(52):
        await _run(client, flow_id)
    response = await client.post("/flow_runs/bulk_delete", json={})
    assert len(response.json()["deleted"]) == 50
    assert await _count(client, "flow_runs") == 2


async def test_bulk_set_state_orchestrates_each_run(client: httpx.AsyncClient) -> None:
    flow_id = await _flow(client, "orchestrated")
    pending = await _run(client, flow_id, tags=["batch"])
    done = await _run(client, flow_id, tags=["batch"], state={"type": "COMPLETED"})
    await _run(client, flow_id)  # not tagged: untouched
    body = {"flow_runs": {"tags": {"all_": ["batch"]}}, "state": {"type": "CANCELLING", "message": "bulk"}}
    response = await client.post("/flow_runs/bulk_set_state", json=body)
    assert response.status_code == 200, response.text
    results = {result["flow_run_id"]: result for result in response.json()["results"]}
    assert set(results) == {pending["id"], done["id"]}
    assert results[pending["id"]]["status"] == "ACCEPT"
    assert results[pending["id"]]["state"]["type"] == "CANCELLING"
    assert results[pending["id"]]["details"] == {"type": "accept_details"}
    # A finished run does not start again: the same rule as set_state, with its reason.
    assert results[done["id"]]["status"] in ("REJECT", "ABORT"), results[done["id"]]
    assert results[done["id"]]["state"]["type"] == "COMPLETED"
    assert results[done["id"]]["details"]["reason"]
    assert (await client.get(f"/flow_runs/{pending['id']}")).json()["state"]["message"] == "bulk"
    history = (await client.get("/flow_run_states/", params={"flow_run_id": pending["id"]})).json()
    assert [state["type"] for state in history] == ["PENDING", "CANCELLING"]
    # force goes around the rules, as set_state's does.
    body = {"flow_runs": {"id": {"any_": [done["id"]]}}, "state": {"type": "SCHEDULED"}, "force": True}
    forced = (await client.post("/flow_runs/bulk_set_state", json=body)).json()["results"]
    assert [result["status"] for result in forced] == ["ACCEPT"]
    assert (await client.get(f"/flow_runs/{done['id']}")).json()["state"]["type"] == "SCHEDULED"
    nothing = await client.post(
        "/flow_runs/bulk_set_state",
        json={"flow_runs": {"id": {"any_": [str(uuid.uuid4())]}}, "state": {"type": "RUNNING"}},
    )
    assert nothing.json() == {"results": []}


async def _deployment(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    flow_id = await _flow(client, "deployed")
    response = await client.post("/deployments/", json={"flow_id": flow_id, "name": "nightly", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def test_bulk_create_flow_runs_from_a_deployment(client: httpx.AsyncClient) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    deployment = await _deployment(
        client, parameters={"n": 1}, tags=["dep"], parameter_openapi_schema=schema, enforce_parameter_schema=True
    )
    body = [
        {},
        {"name": "second", "parameters": {"n": 2}, "tags": ["extra"], "state": {"type": "PENDING"}},
        {"parameters": {"n": "not a number"}},
    ]
    response = await client.post(f"/deployments/{deployment['id']}/create_flow_run/bulk", json=body)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["status"] for result in results] == ["CREATED", "CREATED", "FAILED"]
    assert results[2]["flow_run_id"] is None
    assert "n" in results[2]["error"]
    first = (await client.get(f"/flow_runs/{results[0]['flow_run_id']}")).json()
    second = (await client.get(f"/flow_runs/{results[1]['flow_run_id']}")).json()
    assert (first["state"]["type"], first["parameters"], first["deployment_id"]) == (
        "SCHEDULED",
        {"n": 1},
        deployment["id"],
    )
    assert (second["name"], second["state"]["type"], second["parameters"]) == ("second", "PENDING", {"n": 2})
    assert set(second["tags"]) == {"dep", "extra"}
    assert await _count(client, "flow_runs") == 2


async def test_bulk_create_limits_and_unknown_deployment(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(client)
    path = f"/deployments/{deployment['id']}/create_flow_run/bulk"
    too_many = await client.post(path, json=[{}] * 101)
    assert too_many.status_code == 400
    assert too_many.json()["detail"] == "Cannot create more than 100 flow runs at once."
    assert await _count(client, "flow_runs") == 0
    assert (await client.post(path, json=[])).json() == {"results": []}
    missing = await client.post(f"/deployments/{uuid.uuid4()}/create_flow_run/bulk", json=[])
    assert missing.status_code == 404
    assert "does not exist" in missing.json()["detail"]
    bad = await client.post(path, json=[{"paramters": {}}])
    assert bad.status_code == 422
    assert "paramters" in bad.json()["detail"]
    not_a_list = await client.post(path, json={"name": "x"})
    assert not_a_list.status_code == 422
    assert (await client.post("/deployments/not-a-uuid/create_flow_run/bulk", json=[])).status_code == 422


async def _set_times(database: Database, run_id: str, **times: dt.datetime | None) -> None:
    async with database.write() as connection:
        await connection.execute(sa.update(t.flow_run).where(t.flow_run.c.id == uuid.UUID(run_id)).values(**times))


async def test_lateness_is_the_mean_of_matching_runs(client: httpx.AsyncClient, database: Database) -> None:
    flow_id = await _flow(client, "late")
    assert (await client.post("/flow_runs/lateness", json={})).json() is None
    expected = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    started_late = await _run(client, flow_id, tags=["late"], state={"type": "COMPLETED"})
    await _set_times(
        database, started_late["id"], expected_start_time=expected, start_time=expected + dt.timedelta(minutes=1)
    )
    on_time = await _run(client, flow_id, tags=["late"], state={"type": "COMPLETED"})
    await _set_times(database, on_time["id"], expected_start_time=expected, start_time=expected)
    response = await client.post("/flow_runs/lateness", json={"flow_runs": {"tags": {"all_": ["late"]}}})
    assert response.status_code == 200, response.text
    assert response.json() == 30.0
    # A run not started whose expected start has passed is late by the time since; a finished one is not.
    waiting = await _run(client, flow_id, tags=["waiting"])
    await _set_times(database, waiting["id"], expected_start_time=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    lateness = (await client.post("/flow_runs/lateness", json={"flow_runs": {"tags": {"all_": ["waiting"]}}})).json()
    assert 3599 < lateness < 3700
    bad = await client.post("/flow_runs/lateness", json={"flow_runs": {"tags": {"every": ["x"]}}})
    assert bad.status_code == 422
    assert "every" in bad.json()["detail"]

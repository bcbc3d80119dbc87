"""`/flow_runs/{id}/graph-v2` and `/flow_runs/{id}/graph` over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from baton.errors import BadRequest
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.runs import flow_run_graph


async def _flow_run(client: httpx.AsyncClient, name: str, **body: Any) -> dict[str, Any]:
    flow_id = (await client.post("/flows/", json={"name": name})).json()["id"]
    response = await client.post("/flow_runs/", json={"flow_id": flow_id, "name": f"{name}-run", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def _task_run(
    client: httpx.AsyncClient, flow_run_id: str, key: str, state: str = "RUNNING", **inputs: list[dict[str, Any]]
) -> dict[str, Any]:
    body = {
        "flow_run_id": flow_run_id,
        "task_key": key,
        "dynamic_key": "0",
        "name": f"{key}-0",
        "task_inputs": inputs,
        "state": {"type": state},
    }
    response = await client.post("/task_runs/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _ref(run: dict[str, Any]) -> dict[str, Any]:
    return {"input_type": "task_run", "id": run["id"]}


async def _graph(client: httpx.AsyncClient, run_id: str, **params: str) -> dict[str, Any]:
    response = await client.get(f"/flow_runs/{run_id}/graph-v2", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_graph_nodes_edges_subflows_artifacts_and_states(client: httpx.AsyncClient) -> None:
    run = await _flow_run(client, "parent")
    extract = await _task_run(client, run["id"], "extract")
    transform = await _task_run(
        client, run["id"], "transform", data=[_ref(extract), {"input_type": "parameter", "name": "x"}]
    )
    wrapper = await _task_run(client, run["id"], "wrapper")
    inner = await _task_run(client, run["id"], "inner", __parents__=[_ref(wrapper)])
    subflow_task = await _task_run(client, run["id"], "child-flow")
    subflow = await _flow_run(client, "child", parent_task_run_id=subflow_task["id"])
    await client.post(
        "/artifacts/", json={"key": "report", "type": "markdown", "data": "# hi", "flow_run_id": run["id"]}
    )
    await client.post(
        "/artifacts/",
        json={"type": "progress", "data": 50, "flow_run_id": run["id"], "task_run_id": transform["id"]},
    )
    await client.post("/artifacts/", json={"type": "result", "data": "x", "flow_run_id": run["id"]})

    graph = await _graph(client, run["id"])
    assert set(graph) == {"start_time", "end_time", "root_node_ids", "nodes", "artifacts", "states"}
    nodes = {node_id: node for node_id, node in graph["nodes"]}
    assert set(nodes) == {extract["id"], transform["id"], wrapper["id"], inner["id"], subflow["id"]}
    assert nodes[transform["id"]]["parents"] == [{"id": extract["id"]}]
    assert nodes[extract["id"]]["children"] == [{"id": transform["id"]}]
    assert nodes[inner["id"]]["encapsulating"] == [{"id": wrapper["id"]}]
    assert nodes[inner["id"]]["parents"] == []
    assert set(graph["root_node_ids"]) == {extract["id"], wrapper["id"], inner["id"], subflow["id"]}
    child = nodes[subflow["id"]]
    assert (child["kind"], child["label"], child["state_type"]) == ("flow-run", "child / child-run", "PENDING")
    assert nodes[extract["id"]]["kind"] == "task-run"
    assert nodes[extract["id"]]["label"] == "extract-0"
    assert nodes[extract["id"]]["state_type"] == "RUNNING"
    progress = nodes[transform["id"]]["artifacts"]
    assert [(a["type"], a["data"], a["is_latest"]) for a in progress] == [("progress", 50, True)]
    assert [(a["key"], a["type"], a["data"]) for a in graph["artifacts"]] == [("report", "markdown", None)]
    assert [state["type"] for state in graph["states"]] == ["PENDING"]
    assert set(graph["states"][0]) == {"id", "timestamp", "type", "name"}
    starts = [node["start_time"] for _, node in graph["nodes"]]
    assert starts == sorted(starts)


async def test_since_keeps_nodes_that_ended_after_it(client: httpx.AsyncClient, database: Database) -> None:
    run = await _flow_run(client, "since")
    old = await _task_run(client, run["id"], "old", state="COMPLETED")
    running = await _task_run(client, run["id"], "running")
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    async with database.write() as connection:
        await connection.execute(
            sa.update(t.task_run).where(t.task_run.c.id == uuid.UUID(old["id"])).values(end_time=long_ago)
        )
    everything = await _graph(client, run["id"])
    assert {node_id for node_id, _ in everything["nodes"]} == {old["id"], running["id"]}
    recent = await _graph(client, run["id"], since="2025-01-01T00:00:00Z")
    assert [node_id for node_id, _ in recent["nodes"]] == [running["id"]]


async def test_graph_errors(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"/flow_runs/{uuid.uuid4()}/graph-v2")
    assert missing.status_code == 404
    assert "does not exist" in missing.json()["detail"]
    assert (await client.get(f"/flow_runs/{uuid.uuid4()}/graph")).status_code == 404
    assert (await client.get("/flow_runs/nope/graph-v2")).status_code == 422
    run = await _flow_run(client, "errors")
    bad = await client.get(f"/flow_runs/{run['id']}/graph-v2", params={"since": "yesterday"})
    assert bad.status_code == 422
    assert "since" in bad.json()["detail"]
    empty = await _graph(client, run["id"])
    assert (empty["nodes"], empty["root_node_ids"], empty["artifacts"]) == ([], [], [])


async def test_graph_too_large_is_a_400(database: Database) -> None:
    async with database.write() as connection:
        flow_id, run_id = uuid.uuid4(), uuid.uuid4()
        now = dt.datetime.now(dt.UTC)
        await connection.execute(sa.insert(t.flow).values(id=flow_id, name="big", created=now, updated=now))
        await connection.execute(
            sa.insert(t.flow_run).values(id=run_id, flow_id=flow_id, name="big-run", created=now, updated=now)
        )
        rows = [
            {
                "id": uuid.uuid4(),
                "flow_run_id": run_id,
                "task_key": "t",
                "dynamic_key": str(index),
                "name": f"t-{index}",
                "expected_start_time": now,
                "created": now,
                "updated": now,
            }
            for index in range(3)
        ]
        await connection.execute(sa.insert(t.task_run), rows)
    async with database.read() as connection:
        graph = await flow_run_graph.read_flow_run_graph(
            connection, run_id, dt.datetime(1, 1, 1, tzinfo=dt.UTC), max_nodes=3
        )
        assert len(graph["nodes"]) == 3
        with pytest.raises(BadRequest, match="has more than 2 nodes"):
            await flow_run_graph.read_flow_run_graph(
                connection, run_id, dt.datetime(1, 1, 1, tzinfo=dt.UTC), max_nodes=2
            )


async def test_v1_graph_lists_task_runs_with_upstream_dependencies(client: httpx.AsyncClient) -> None:
    run = await _flow_run(client, "v1")
    first = await _task_run(client, run["id"], "first", state="COMPLETED")
    second = await _task_run(
        client, run["id"], "second", x=[_ref(first), _ref(first)], y=[{"input_type": "constant", "type": "int"}]
    )
    response = await client.get(f"/flow_runs/{run['id']}/graph")
    assert response.status_code == 200, response.text
    by_id = {item["id"]: item for item in response.json()}
    assert set(by_id) == {first["id"], second["id"]}
    assert by_id[second["id"]]["upstream_dependencies"] == [{"input_type": "task_run", "id": first["id"]}]
    assert by_id[first["id"]]["upstream_dependencies"] == []
    assert by_id[first["id"]]["state"]["type"] == "COMPLETED"
    assert by_id[first["id"]]["untrackable_result"] is False
    assert set(by_id[first["id"]]) == {
        "id",
        "name",
        "upstream_dependencies",
        "state",
        "expected_start_time",
        "start_time",
        "end_time",
        "total_run_time",
        "estimated_run_time",
        "untrackable_result",
    }

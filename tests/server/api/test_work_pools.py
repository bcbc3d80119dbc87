"""Work pools, queues, workers and the worker's poll over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.work_pools.workers import StatusRules, update_statuses


async def _pool(client: httpx.AsyncClient, name: str = "pool", **body: Any) -> dict[str, Any]:
    response = await client.post("/work_pools/", json={"name": name, "type": "process", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def _queue(client: httpx.AsyncClient, pool: str, name: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/work_pools/{pool}/queues", json={"name": name, **body})
    assert response.status_code == 201, response.text
    return response.json()


async def _priorities(client: httpx.AsyncClient, pool: str) -> dict[str, int]:
    queues = (await client.post(f"/work_pools/{pool}/queues/filter", json={})).json()
    return {queue["name"]: queue["priority"] for queue in queues}


async def _scheduled_run(
    client: httpx.AsyncClient, database: Database, queue_id: str, seconds_from_now: float = -1
) -> str:
    """A Scheduled run in the queue, due `seconds_from_now` (the queue is set in the database: the deployments API
    is what normally assigns it)."""
    flow_id = (await client.post("/flows/", json={"name": "work"})).json()["id"]
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_from_now)).isoformat()
    state = {"type": "SCHEDULED", "state_details": {"scheduled_time": when}}
    response = await client.post("/flow_runs/", json={"flow_id": flow_id, "state": state})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    async with database.write() as connection:
        await connection.execute(
            sa.update(t.flow_run).where(t.flow_run.c.id == uuid.UUID(run_id)).values(work_queue_id=uuid.UUID(queue_id))
        )
    return run_id


async def _poll(client: httpx.AsyncClient, pool: str, **body: Any) -> list[dict[str, Any]]:
    """A worker's poll; due now unless the body says otherwise (without `scheduled_before` every run is due)."""
    body.setdefault("scheduled_before", dt.datetime.now(dt.UTC).isoformat())
    response = await client.post(f"/work_pools/{pool}/get_scheduled_flow_runs", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def _set_state(client: httpx.AsyncClient, run_id: str, state_type: str) -> None:
    response = await client.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": state_type}, "force": True})
    assert response.status_code in (200, 201), response.text


async def test_create_makes_the_default_queue(client: httpx.AsyncClient) -> None:
    pool = await _pool(client, description="local", concurrency_limit=3)
    assert pool["type"] == "process"
    assert pool["status"] == "NOT_READY"
    assert pool["active_slots"] == 0
    queues = (await client.post("/work_pools/pool/queues/filter", json={})).json()
    assert [(queue["name"], queue["priority"], queue["id"]) for queue in queues] == [
        ("default", 1, pool["default_queue_id"])
    ]
    assert queues[0]["work_pool_name"] == "pool"
    read = (await client.get("/work_pools/pool")).json()
    assert read["id"] == pool["id"] and read["description"] == "local"
    assert (await client.post("/work_pools/", json={"name": "pool", "type": "process"})).status_code == 409
    assert (await client.post("/work_pools/", json={"name": "prefect-x"})).status_code == 403


async def test_any_type_and_base_job_template_are_kept(client: httpx.AsyncClient) -> None:
    template = {"job_configuration": {"command": "{{ command }}"}, "variables": {"properties": {}}}
    pool = await _pool(client, "k8s", type="kubernetes-custom", base_job_template=template)
    assert pool["type"] == "kubernetes-custom"
    assert (await client.get("/work_pools/k8s")).json()["base_job_template"] == template


async def test_unknown_pool_is_a_readable_404(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/work_pools/nope"),
        await client.patch("/work_pools/nope", json={"is_paused": True}),
        await client.delete("/work_pools/nope"),
        await client.post("/work_pools/nope/get_scheduled_flow_runs", json={}),
        await client.post("/work_pools/nope/workers/heartbeat", json={"name": "w"}),
        await client.post("/work_pools/nope/queues", json={"name": "q"}),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == 'Work pool "nope" not found.'


async def test_filter_count_update_and_delete(client: httpx.AsyncClient) -> None:
    await _pool(client, "a")
    await _pool(client, "b", type="docker")
    names = [pool["name"] for pool in (await client.post("/work_pools/filter", json={})).json()]
    assert names == ["a", "b"]
    by_type = await client.post("/work_pools/filter", json={"work_pools": {"type": {"any_": ["docker"]}}})
    assert [pool["name"] for pool in by_type.json()] == ["b"]
    assert (await client.post("/work_pools/count", json={})).json() == 2
    assert (await client.patch("/work_pools/a", json={"is_paused": True, "concurrency_limit": 2})).status_code == 204
    paused = (await client.get("/work_pools/a")).json()
    assert (paused["is_paused"], paused["status"], paused["concurrency_limit"]) == (True, "PAUSED", 2)
    assert (await client.patch("/work_pools/a", json={"is_paused": False})).status_code == 204
    assert (await client.get("/work_pools/a")).json()["status"] == "NOT_READY"
    assert (await client.patch("/work_pools/a", json={"bogus": 1})).status_code == 422
    assert (await client.delete("/work_pools/a")).status_code == 204
    assert (await client.get("/work_pools/a")).status_code == 404
    assert (await client.post("/work_pools/count", json={})).json() == 1


async def test_queue_priorities_shift_like_prefect(client: httpx.AsyncClient) -> None:
    await _pool(client)
    await _queue(client, "pool", "low")
    await _queue(client, "pool", "mid")
    assert await _priorities(client, "pool") == {"default": 1, "low": 2, "mid": 3}
    urgent = await _queue(client, "pool", "urgent", priority=1)
    assert urgent["priority"] == 1
    assert await _priorities(client, "pool") == {"urgent": 1, "default": 2, "low": 3, "mid": 4}
    await _queue(client, "pool", "far", priority=10)
    assert (await _priorities(client, "pool"))["far"] == 10
    assert (await client.patch("/work_pools/pool/queues/far", json={"priority": 2})).status_code == 204
    assert await _priorities(client, "pool") == {"urgent": 1, "far": 2, "default": 3, "low": 4, "mid": 5}
    assert (await client.post("/work_pools/pool/queues", json={"name": "low"})).status_code == 409


async def test_queue_read_update_and_delete(client: httpx.AsyncClient) -> None:
    pool = await _pool(client)
    queue = await _queue(client, "pool", "etl", description="nightly", concurrency_limit=2)
    read = (await client.get("/work_pools/pool/queues/etl")).json()
    assert (read["id"], read["description"], read["active_slots"], read["status"]) == (
        queue["id"],
        "nightly",
        0,
        "NOT_READY",
    )
    assert (await client.patch("/work_pools/pool/queues/etl", json={"is_paused": True})).status_code == 204
    assert (await client.get("/work_pools/pool/queues/etl")).json()["status"] == "PAUSED"
    assert (await client.get("/work_pools/pool/queues/missing")).status_code == 404
    legacy = (await client.get(f"/work_queues/{queue['id']}")).json()
    assert legacy["name"] == "etl" and legacy["work_pool_name"] == "pool"
    by_name = await client.get("/work_queues/name/etl", params={"work_pool_name": "pool"})
    assert by_name.json()["id"] == queue["id"]
    assert (await client.delete("/work_pools/pool/queues/default")).status_code == 409
    assert (await client.delete("/work_pools/pool/queues/etl")).status_code == 204
    assert await _priorities(client, "pool") == {"default": 1}
    assert pool["default_queue_id"] == (await client.get("/work_pools/pool/queues/default")).json()["id"]


async def test_poll_honours_priority_pause_and_limits(client: httpx.AsyncClient, database: Database) -> None:
    pool = await _pool(client)
    urgent = await _queue(client, "pool", "urgent", priority=1)
    default_queue = pool["default_queue_id"]
    late_default = await _scheduled_run(client, database, default_queue, -60)
    early_urgent = await _scheduled_run(client, database, urgent["id"], -5)
    future = await _scheduled_run(client, database, default_queue, 3600)

    polled = await _poll(client, "pool")
    assert [item["flow_run"]["id"] for item in polled] == [early_urgent, late_default]
    assert polled[0]["work_queue_id"] == urgent["id"] and polled[0]["work_pool_id"] == pool["id"]
    assert polled[0]["flow_run"]["state"]["type"] == "SCHEDULED"
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    assert len(await _poll(client, "pool", scheduled_before=soon)) == 3
    assert len(await _poll(client, "pool", scheduled_before=None)) == 3
    only_default = await _poll(client, "pool", work_queue_names=["default"])
    assert [item["flow_run"]["id"] for item in only_default] == [late_default]
    assert (
        await client.post("/work_pools/pool/get_scheduled_flow_runs", json={"work_queue_names": ["x"]})
    ).status_code == 404
    assert len(await _poll(client, "pool", limit=1)) == 1

    # A paused queue gives nothing; a paused pool gives nothing.
    await client.patch("/work_pools/pool/queues/urgent", json={"is_paused": True})
    assert [item["flow_run"]["id"] for item in await _poll(client, "pool")] == [late_default]
    await client.patch("/work_pools/pool/queues/urgent", json={"is_paused": False})
    await client.patch("/work_pools/pool", json={"is_paused": True})
    assert await _poll(client, "pool") == []
    await client.patch("/work_pools/pool", json={"is_paused": False})

    # Queue limit: one slot, taken by a Running run of that queue.
    await client.patch("/work_pools/pool/queues/urgent", json={"concurrency_limit": 1})
    await _set_state(client, await _scheduled_run(client, database, urgent["id"]), "RUNNING")
    assert [item["flow_run"]["id"] for item in await _poll(client, "pool")] == [late_default]
    assert (await client.get("/work_pools/pool/queues/urgent")).json()["active_slots"] == 1

    # Pool limit: two slots, one taken (the Running run above), one Cancelling run takes the other.
    await client.patch("/work_pools/pool/queues/urgent", json={"concurrency_limit": None})
    await client.patch("/work_pools/pool", json={"concurrency_limit": 2})
    assert [item["flow_run"]["id"] for item in await _poll(client, "pool")] == [early_urgent]
    cancelling = await _scheduled_run(client, database, default_queue)
    await _set_state(client, cancelling, "RUNNING")
    await _set_state(client, cancelling, "CANCELLING")
    assert await _poll(client, "pool") == []
    assert (await client.get("/work_pools/pool")).json()["active_slots"] == 2
    assert (await client.get(f"/flow_runs/{cancelling}")).json()["state_type"] == "CANCELLING"
    assert future  # never due in these polls


async def test_poll_marks_queues_and_deployments_ready(client: httpx.AsyncClient, database: Database) -> None:
    pool = await _pool(client)
    await _queue(client, "pool", "other")
    await _poll(client, "pool", work_queue_names=["default"])
    default = (await client.get("/work_pools/pool/queues/default")).json()
    other = (await client.get("/work_pools/pool/queues/other")).json()
    assert default["status"] == "READY" and default["last_polled"] is not None
    assert other["status"] == "NOT_READY" and other["last_polled"] is None
    status = (await client.get(f"/work_queues/{pool['default_queue_id']}/status")).json()
    assert status["healthy"] is True and status["late_runs_count"] == 0


async def test_heartbeat_upserts_the_worker_and_readies_the_pool(client: httpx.AsyncClient) -> None:
    await _pool(client)
    body = {"name": "w1", "heartbeat_interval_seconds": 15}
    assert (await client.post("/work_pools/pool/workers/heartbeat", json=body)).status_code == 204
    second = await client.post("/work_pools/pool/workers/heartbeat", json={**body, "return_id": True})
    assert second.status_code == 200
    workers = (await client.post("/work_pools/pool/workers/filter", json={})).json()
    assert [(w["name"], w["status"], w["heartbeat_interval_seconds"]) for w in workers] == [("w1", "ONLINE", 15)]
    assert uuid.UUID(second.json()) == uuid.UUID(workers[0]["id"])
    assert (await client.get("/work_pools/pool")).json()["status"] == "READY"
    offline = await client.post("/work_pools/pool/workers/filter", json={"workers": {"status": {"any_": ["OFFLINE"]}}})
    assert offline.json() == []
    assert (await client.delete("/work_pools/pool/workers/w1")).status_code == 204
    assert (await client.delete("/work_pools/pool/workers/w1")).status_code == 404


async def test_status_sweep_takes_silent_workers_offline(client: httpx.AsyncClient, database: Database) -> None:
    await _pool(client)
    await _pool(client, "busy")
    await client.post("/work_pools/pool/workers/heartbeat", json={"name": "old", "heartbeat_interval_seconds": 10})
    await client.post("/work_pools/busy/workers/heartbeat", json={"name": "fresh", "heartbeat_interval_seconds": 10})
    await _poll(client, "pool")
    rules = StatusRules(
        inactivity_heartbeat_multiple=3, fallback_heartbeat_interval_seconds=30, last_polled_timeout_seconds=60
    )
    async with database.write() as connection:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=31)
        await connection.execute(sa.update(t.worker).where(t.worker.c.name == "old").values(last_heartbeat_time=old))
        await connection.execute(
            sa.update(t.work_queue).values(last_polled=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=61))
        )
        changes = await update_statuses(connection, rules)
    assert (changes.workers_offline, changes.pools_not_ready, changes.queues_not_ready) == (1, 1, 1)
    workers = (await client.post("/work_pools/pool/workers/filter", json={})).json()
    assert workers[0]["status"] == "OFFLINE"
    assert (await client.get("/work_pools/pool")).json()["status"] == "NOT_READY"
    assert (await client.get("/work_pools/busy")).json()["status"] == "READY"
    assert (await client.get("/work_pools/pool/queues/default")).json()["status"] == "NOT_READY"
    async with database.write() as connection:
        again = await update_statuses(connection, rules)
    assert (again.workers_offline, again.pools_not_ready, again.queues_not_ready) == (0, 0, 0)

"""Concurrency status of pools and queues, queues made without a pool, and the worker-metadata view, over real HTTP
on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import httpx

from baton.server.database.engine import Database
from tests.server.api.test_work_pools import _pool, _queue, _scheduled_run, _set_state


async def test_pool_concurrency_status_lists_slot_holders_per_queue(
    client: httpx.AsyncClient, database: Database
) -> None:
    pool = await _pool(client, "busy", concurrency_limit=5)
    fast = await _queue(client, "busy", "fast", concurrency_limit=2)
    running = [await _scheduled_run(client, database, fast["id"]) for _ in range(3)]
    for run_id in running[:2]:
        await _set_state(client, run_id, "RUNNING")
    pending = await _scheduled_run(client, database, pool["default_queue_id"])
    await _set_state(client, pending, "PENDING")

    response = await client.post("/work_pools/busy/concurrency_status", json={"flow_run_limit": 1})
    assert response.status_code == 200, response.text
    status = response.json()
    assert (status["active_slots"], status["concurrency_limit"]) == (3, 5)
    assert (status["count"], status["page"], status["pages"]) == (2, 1, 1)
    queues = {queue["queue_name"]: queue for queue in status["queues"]}
    assert [queue["queue_name"] for queue in status["queues"]] == ["default", "fast"]
    assert (queues["fast"]["active_slots"], queues["fast"]["flow_run_count"], queues["fast"]["concurrency_limit"]) == (
        2,
        2,
        2,
    )
    (shown,) = queues["fast"]["flow_runs"]
    assert shown["id"] in running[:2] and shown["state_type"] == "RUNNING"
    assert shown["time_in_current_state"] >= 0
    assert [run["id"] for run in queues["default"]["flow_runs"]] == [pending]

    second = (await client.post("/work_pools/busy/concurrency_status", json={"page": 2, "limit": 1})).json()
    assert [queue["queue_name"] for queue in second["queues"]] == ["fast"]
    assert (second["count"], second["limit"], second["pages"], second["page"]) == (2, 1, 2, 2)
    # An empty body is the first page with the default limit, as Prefect's.
    assert (await client.post("/work_pools/busy/concurrency_status")).json()["page"] == 1


async def test_queue_concurrency_status_pages_its_runs(client: httpx.AsyncClient, database: Database) -> None:
    await _pool(client, "paged")
    queue = await _queue(client, "paged", "q", concurrency_limit=4)
    run_ids = [await _scheduled_run(client, database, queue["id"]) for _ in range(3)]
    for run_id in run_ids:
        await _set_state(client, run_id, "RUNNING")
    await _set_state(client, run_ids[2], "COMPLETED")

    response = await client.post(f"/work_queues/{queue['id']}/concurrency_status", json={"limit": 1, "page": 2})
    assert response.status_code == 200, response.text
    status = response.json()
    assert (status["active_slots"], status["concurrency_limit"], status["count"]) == (2, 4, 2)
    assert (status["limit"], status["pages"], status["page"]) == (1, 2, 2)
    assert [run["id"] for run in status["flow_runs"]] == [sorted(run_ids[:2])[1]]


async def test_concurrency_status_errors_are_readable(client: httpx.AsyncClient) -> None:
    missing = await client.post("/work_pools/nope/concurrency_status", json={})
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    assert (await client.post(f"/work_queues/{uuid.uuid4()}/concurrency_status", json={})).status_code == 404
    await _pool(client, "limits")
    too_many = await client.post("/work_pools/limits/concurrency_status", json={"flow_run_limit": 201})
    assert too_many.status_code == 422 and "flow_run_limit" in too_many.text
    assert (await client.post("/work_pools/limits/concurrency_status", json={"page": 0})).status_code == 422
    assert (await client.post("/work_queues/not-a-uuid/concurrency_status", json={})).status_code == 422


async def test_queue_without_pool_goes_to_default_agent_pool(client: httpx.AsyncClient) -> None:
    # As Prefect: the pool is made on first use, and a queue named `default` is then the pool's own.
    default = await client.post("/work_queues/", json={"name": "default"})
    assert default.status_code == 201, default.text
    pool = (await client.get("/work_pools/default-agent-pool")).json()
    assert pool["type"] == "prefect-agent" and default.json()["id"] == pool["default_queue_id"]

    created = await client.post("/work_queues/", json={"name": "legacy", "concurrency_limit": 2, "priority": 1})
    assert created.status_code == 201, created.text
    queue = created.json()
    assert (queue["work_pool_name"], queue["concurrency_limit"], queue["priority"]) == ("default-agent-pool", 2, 1)
    assert queue["active_slots"] == 0
    by_name = await client.get("/work_queues/name/legacy", params={"work_pool_name": "default-agent-pool"})
    assert by_name.json()["id"] == queue["id"]

    assert (await client.post("/work_queues/", json={"name": "legacy"})).status_code == 409
    assert (await client.post("/work_queues/", json={"name": "default"})).status_code == 409
    bad = await client.post("/work_queues/", json={"name": "a/b"})
    assert bad.status_code == 422 and "invalid character" in bad.text
    unknown_field = await client.post("/work_queues/", json={"name": "x", "work_pool_id": str(uuid.uuid4())})
    assert unknown_field.status_code == 422


async def test_worker_metadata_view_serves_process_and_docker_templates(client: httpx.AsyncClient) -> None:
    response = await client.get("/collections/views/aggregate-worker-metadata")
    assert response.status_code == 200, response.text
    view = response.json()
    process = view["prefect"]["process"]
    docker = view["prefect-docker"]["docker"]
    assert (process["type"], docker["type"]) == ("process", "docker")
    docker_template = docker["default_base_job_configuration"]
    variables = docker_template["variables"]["properties"]
    assert {"image", "env", "volumes", "networks", "image_pull_policy", "auto_remove", "command", "name"} <= set(
        variables
    )
    assert docker_template["job_configuration"]["image"] == "{{ image }}"
    assert "working_dir" in process["default_base_job_configuration"]["variables"]["properties"]
    unknown = await client.get("/collections/views/nope")
    assert unknown.status_code == 404 and unknown.json()["detail"] == "View nope not found in registry"

"""The official Prefect client's work-pool calls against Baton (in a subprocess, to keep its global state out of
pytest): every answer parses into the client's own models."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.server.api.prefect_client_script import run_prefect_client_script

# Importing prefect takes about 2 s; anything near this limit is a hang.
CLIENT_TIMEOUT_SECONDS = 60
CLIENT_SCRIPT = """
import asyncio
import json

from prefect import get_client
from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound


async def main():
    async with get_client() as client:
        pool = await client.create_work_pool(WorkPoolCreate(name="cli-pool", type="process", concurrency_limit=2))
        try:
            await client.create_work_pool(WorkPoolCreate(name="cli-pool", type="process"))
            duplicate = "created"
        except ObjectAlreadyExists:
            duplicate = "refused"
        await client.update_work_pool("cli-pool", WorkPoolUpdate(is_paused=True))
        queue = await client.create_work_queue(name="urgent", work_pool_name="cli-pool", priority=1)
        queues = await client.read_work_queues(work_pool_name="cli-pool")
        by_name = await client.read_work_queue_by_name("urgent", work_pool_name="cli-pool")
        by_id = await client.read_work_queue(queue.id)
        await client.send_worker_heartbeat("cli-pool", "w1", heartbeat_interval_seconds=30)
        workers = await client.read_workers_for_work_pool("cli-pool")
        runs = await client.get_scheduled_flow_runs_for_work_pool("cli-pool")
        read = await client.read_work_pool("cli-pool")
        pools = await client.read_work_pools()
        try:
            await client.read_work_pool("missing")
            missing = "found"
        except ObjectNotFound:
            missing = "not found"
        await client.delete_work_pool("cli-pool")
        print(json.dumps({
            "default_queue": str(pool.default_queue_id),
            "duplicate": duplicate,
            "queues": [(q.name, q.priority) for q in queues],
            "same_queue": by_name.id == by_id.id == queue.id,
            "workers": [(w.name, w.status.value) for w in workers],
            "runs": len(runs),
            "paused": (read.is_paused, read.status.value, read.active_slots),
            "pools": [p.name for p in pools],
            "missing": missing,
        }))


asyncio.run(main())
"""


async def test_prefect_client_manages_pools_queues_and_workers(base_url: str, tmp_path: Path) -> None:
    seen = await run_prefect_client_script(CLIENT_SCRIPT, base_url, tmp_path, CLIENT_TIMEOUT_SECONDS)
    assert seen["duplicate"] == "refused"
    assert seen["queues"] == [["urgent", 1], ["default", 2]]
    assert seen["same_queue"] is True
    assert seen["workers"] == [["w1", "ONLINE"]]
    assert seen["runs"] == 0
    assert seen["paused"] == [True, "PAUSED", 0]
    assert seen["pools"] == ["cli-pool"]
    assert seen["missing"] == "not found"
    async with httpx.AsyncClient(base_url=f"{base_url}/api") as client:
        assert (await client.get("/work_pools/cli-pool")).status_code == 404

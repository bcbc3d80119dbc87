"""The beat's run-health jobs with the embedded actors: zombie runs become Crashed, Cancelling runs left behind
become Cancelled, a cancelled run's children are cancelled, silent workers go OFFLINE."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.settings import Settings
from tests.pipeline import create_flow_run, eventually

ZOMBIE_TIMEOUT = 1.0


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        api_database_connection_url=database_url,
        services_zombie_runs_loop_seconds=0.2,
        services_zombie_runs_timeout_seconds=ZOMBIE_TIMEOUT,
        services_foreman_loop_seconds=0.2,
        services_foreman_fallback_heartbeat_interval_seconds=1,
    )


async def _state(client: httpx.AsyncClient, run_id: str) -> str:
    return (await client.get(f"/flow_runs/{run_id}")).json()["state_type"]


async def _set_state(client: httpx.AsyncClient, run_id: str, state_type: str, force: bool = True) -> None:
    response = await client.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": state_type}, "force": force})
    assert response.status_code in (200, 201), response.text
    assert response.json()["status"] == "ACCEPT", response.text


async def _worker_run(client: httpx.AsyncClient, database: Database, worker: str, state: str) -> dict[str, Any]:
    """A run in pool `pool` taken by `worker` (labelled as a Prefect worker labels it), moved to `state`."""
    if (await client.get("/work_pools/pool")).status_code == 404:
        await client.post("/work_pools/", json={"name": "pool", "type": "process"})
    pool = (await client.get("/work_pools/pool")).json()
    run = await create_flow_run(client)
    async with database.write() as connection:
        await connection.execute(
            sa.update(t.flow_run)
            .where(t.flow_run.c.id == uuid.UUID(run["id"]))
            .values(work_queue_id=uuid.UUID(pool["default_queue_id"]))
        )
    await client.patch(f"/flow_runs/{run['id']}/labels", json={"prefect.worker.name": worker})
    await _set_state(client, run["id"], "RUNNING")
    if state != "RUNNING":
        await _set_state(client, run["id"], state)
    return run


async def test_a_run_whose_worker_went_silent_crashes(client: httpx.AsyncClient, database: Database) -> None:
    heartbeat = {"name": "w1", "heartbeat_interval_seconds": 1}
    assert (await client.post("/work_pools/", json={"name": "pool", "type": "process"})).status_code == 201
    await client.post("/work_pools/pool/workers/heartbeat", json=heartbeat)
    zombie = await _worker_run(client, database, "w1", "RUNNING")
    unlabelled = await create_flow_run(client)
    await _set_state(client, unlabelled["id"], "RUNNING")

    async def crashed() -> bool:
        return await _state(client, zombie["id"]) == "CRASHED"

    await eventually(crashed, within=ZOMBIE_TIMEOUT + 15)
    run = (await client.get(f"/flow_runs/{zombie['id']}")).json()
    assert "the last from worker 'w1'" in run["state"]["message"]
    assert await _state(client, unlabelled["id"]) == "RUNNING"

    async def offline() -> bool:  # after three heartbeat intervals
        workers = (await client.post("/work_pools/pool/workers/filter", json={})).json()
        return workers[0]["status"] == "OFFLINE"

    await eventually(offline, within=15)
    assert (await client.get("/work_pools/pool")).json()["status"] == "NOT_READY"


async def test_a_live_worker_keeps_its_run_running(client: httpx.AsyncClient, database: Database) -> None:
    assert (await client.post("/work_pools/", json={"name": "pool", "type": "process"})).status_code == 201
    run = await _worker_run(client, database, "w1", "RUNNING")
    async with database.write() as connection:  # the run has been running for a while
        old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60)
        await connection.execute(
            sa.update(t.flow_run).where(t.flow_run.c.id == uuid.UUID(run["id"])).values(state_timestamp=old)
        )
    for _ in range(8):  # two seconds of heartbeats, twice the zombie timeout
        await client.post("/work_pools/pool/workers/heartbeat", json={"name": "w1", "heartbeat_interval_seconds": 1})
        await asyncio.sleep(0.25)
    assert await _state(client, run["id"]) == "RUNNING"


async def test_heartbeat_events_decide_when_present(client: httpx.AsyncClient) -> None:
    run = await create_flow_run(client)
    await _set_state(client, run["id"], "RUNNING")

    def heartbeat(seconds_ago: float) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "occurred": (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)).isoformat(),
            "event": "prefect.flow-run.heartbeat",
            "resource": {"prefect.resource.id": f"prefect.flow-run.{run['id']}"},
        }

    assert (await client.post("/events", json=[heartbeat(0.5)])).status_code in (200, 202, 204)

    async def crashed() -> bool:
        return await _state(client, run["id"]) == "CRASHED"

    await eventually(crashed, within=ZOMBIE_TIMEOUT + 15)
    message = (await client.get(f"/flow_runs/{run['id']}")).json()["state"]["message"]
    assert "the last from the run's heartbeat events" in message


async def test_cancelling_run_of_a_gone_worker_is_cancelled(client: httpx.AsyncClient, database: Database) -> None:
    assert (await client.post("/work_pools/", json={"name": "pool", "type": "process"})).status_code == 201
    await client.post("/work_pools/pool/workers/heartbeat", json={"name": "w1", "heartbeat_interval_seconds": 1})
    run = await _worker_run(client, database, "w1", "CANCELLING")

    async def cancelled() -> bool:
        return await _state(client, run["id"]) == "CANCELLED"

    await eventually(cancelled, within=ZOMBIE_TIMEOUT + 15)


async def test_cancelling_a_run_cancels_its_task_runs_and_subflows(client: httpx.AsyncClient) -> None:
    parent = await create_flow_run(client)
    await _set_state(client, parent["id"], "RUNNING")
    running = {"type": "RUNNING"}
    tracking = await client.post(
        "/task_runs/",
        json={"flow_run_id": parent["id"], "task_key": "child", "dynamic_key": "0", "state": running},
    )
    task = await client.post(
        "/task_runs/", json={"flow_run_id": parent["id"], "task_key": "work", "dynamic_key": "0", "state": running}
    )
    done = await client.post(
        "/task_runs/",
        json={"flow_run_id": parent["id"], "task_key": "done", "dynamic_key": "0", "state": {"type": "COMPLETED"}},
    )
    assert {tracking.status_code, task.status_code, done.status_code} == {201}, tracking.text
    child = await create_flow_run(client, parent_task_run_id=tracking.json()["id"])
    await _set_state(client, child["id"], "RUNNING")

    await _set_state(client, parent["id"], "CANCELLING")
    await _set_state(client, parent["id"], "CANCELLED", force=False)

    async def children_cancelled() -> bool:
        states = [
            (await client.get(f"/task_runs/{response.json()['id']}")).json()["state_type"]
            for response in (tracking, task, done)
        ]
        return states == ["CANCELLED", "CANCELLED", "COMPLETED"] and await _state(client, child["id"]) == "CANCELLED"

    await eventually(children_cancelled, within=10)

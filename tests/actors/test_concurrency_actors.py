"""The actors keep concurrency slots from leaking: expired leases come back through the beat's sweep, and a run that
reaches a terminal state gives back the slots it still holds."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton.settings import Settings
from tests.pipeline import create_flow_run, eventually, task_run_event


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, api_database_connection_url=database_url, services_lease_sweep_seconds=0.2)


async def _limit(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    return (await client.get(f"/v2/concurrency_limits/{name}")).json()


async def test_an_unrenewed_lease_is_released_by_the_sweep(client: httpx.AsyncClient) -> None:
    created = await client.post("/v2/concurrency_limits/", json={"name": "db", "limit": 1})
    assert created.status_code == 201, created.text
    taken = await client.post(
        "/v2/concurrency_limits/increment-with-lease",
        json={"names": ["db"], "slots": 1, "mode": "concurrency", "lease_duration": 1},
    )
    assert taken.status_code == 200, taken.text
    acquired = time.monotonic()
    full = await client.post(
        "/v2/concurrency_limits/increment-with-lease", json={"names": ["db"], "slots": 1, "lease_duration": 1}
    )
    assert full.status_code == 423

    await eventually(lambda: _free(client), within=15)
    # The lease lasts 1 s and the sweep runs every 0.2 s.
    assert time.monotonic() - acquired < 1 + 0.2 + 1.0


async def _free(client: httpx.AsyncClient) -> bool:
    return (await _limit(client, "db"))["active_slots"] == 0


async def test_a_task_run_reaching_a_final_state_gives_back_its_slots(client: httpx.AsyncClient) -> None:
    await client.post("/v2/concurrency_limits/", json={"name": "tag:db", "limit": 2})
    flow_run = await create_flow_run(client)
    task_run_id = uuid.uuid4()
    taken = await client.post(
        "/v2/concurrency_limits/increment-with-lease",
        json={
            "names": ["tag:db"],
            "slots": 1,
            "mode": "concurrency",
            "lease_duration": 300,
            "holder": {"type": "task_run", "id": str(task_run_id)},
        },
    )
    assert taken.status_code == 200, taken.text
    assert (await _limit(client, "tag:db"))["active_slots"] == 1

    now = dt.datetime.now(dt.UTC)
    events = [
        task_run_event(task_run_id, uuid.UUID(flow_run["id"]), "Running", now),
        task_run_event(task_run_id, uuid.UUID(flow_run["id"]), "Completed", now + dt.timedelta(seconds=1)),
    ]
    assert (await client.post("/events", json=events)).status_code == 204

    async def released() -> bool:
        return (await _limit(client, "tag:db"))["active_slots"] == 0

    await eventually(released, within=15)

"""Deployment concurrency limits over real HTTP (SQLite and PostgreSQL): a run takes a slot as it becomes PENDING,
waits (ENQUEUE) or is cancelled (CANCEL_NEW) when the limit is full, and gives the slot back when it finishes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx


async def _deployment(client: httpx.AsyncClient, name: str, **body: Any) -> dict[str, Any]:
    flow = (await client.post("/flows/", json={"name": "limited"})).json()
    response = await client.post("/deployments/", json={"flow_id": flow["id"], "name": name, **body})
    assert response.status_code == 201, response.text
    return response.json()


async def _run(client: httpx.AsyncClient, deployment: dict[str, Any]) -> str:
    return (await client.post(f"/deployments/{deployment['id']}/create_flow_run", json={})).json()["id"]


async def _propose(client: httpx.AsyncClient, run_id: str, state_type: str, **state: Any) -> dict[str, Any]:
    response = await client.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": state_type, **state}})
    assert response.status_code in (200, 201), response.text
    return response.json()


async def _active_slots(client: httpx.AsyncClient, deployment: dict[str, Any]) -> int:
    return (await client.get(f"/v2/concurrency_limits/deployment:{deployment['id']}")).json()["active_slots"]


async def test_enqueue_waits_for_the_slot_and_finishing_gives_it_back(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(client, "one-at-a-time", concurrency_limit=1)
    assert deployment["concurrency_limit"] == 1
    assert deployment["global_concurrency_limit"]["name"] == f"deployment:{deployment['id']}"
    first, second = await _run(client, deployment), await _run(client, deployment)

    taken = await _propose(client, first, "PENDING")
    assert taken["status"] == "ACCEPT"
    assert taken["state"]["state_details"]["deployment_concurrency_lease_id"]
    assert await _active_slots(client, deployment) == 1

    refused = await _propose(client, second, "PENDING")
    assert refused["status"] == "REJECT"
    assert (refused["state"]["type"], refused["state"]["name"]) == ("SCHEDULED", "AwaitingConcurrencySlot")
    retry_at = dt.datetime.fromisoformat(refused["state"]["state_details"]["scheduled_time"])
    assert 20 < (retry_at - dt.datetime.now(dt.UTC)).total_seconds() <= 30
    assert await _active_slots(client, deployment) == 1

    # The worker's renaming Pending -> Submitting keeps the one slot; running keeps the lease.
    assert (await _propose(client, first, "PENDING", name="Submitting"))["status"] == "ACCEPT"
    running = await _propose(client, first, "RUNNING")
    assert running["status"] == "ACCEPT"
    assert (
        running["state"]["state_details"]["deployment_concurrency_lease_id"]
        == (taken["state"]["state_details"]["deployment_concurrency_lease_id"])
    )
    assert await _active_slots(client, deployment) == 1
    waiting = (await client.get(f"/flow_runs/{second}")).json()
    assert dt.datetime.fromisoformat(waiting["next_scheduled_start_time"]) == retry_at
    assert (await _propose(client, first, "COMPLETED"))["status"] == "ACCEPT"
    assert await _active_slots(client, deployment) == 0
    # The freed slot moves the waiting run forward: a worker's next poll takes it, not one 30 s later.
    promoted = (await client.get(f"/flow_runs/{second}")).json()
    assert dt.datetime.fromisoformat(promoted["next_scheduled_start_time"]) <= dt.datetime.now(dt.UTC)
    assert promoted["state_name"] == "AwaitingConcurrencySlot"
    polled = await client.post(
        "/deployments/get_scheduled_flow_runs",
        json={"deployment_ids": [deployment["id"]], "scheduled_before": dt.datetime.now(dt.UTC).isoformat()},
    )
    assert second in [run["id"] for run in polled.json()], polled.text

    assert (await _propose(client, second, "PENDING"))["status"] == "ACCEPT"
    assert await _active_slots(client, deployment) == 1


async def test_cancel_new_cancels_the_run_that_finds_the_limit_full(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(
        client, "no-queue", concurrency_limit=1, concurrency_options={"collision_strategy": "CANCEL_NEW"}
    )
    first, second = await _run(client, deployment), await _run(client, deployment)
    assert (await _propose(client, first, "PENDING"))["status"] == "ACCEPT"
    refused = await _propose(client, second, "PENDING")
    assert (refused["status"], refused["state"]["type"]) == ("REJECT", "CANCELLED")
    # A run forced to Cancelled while pending gives its slot back too.
    forced = await client.post(f"/flow_runs/{first}/set_state", json={"state": {"type": "CANCELLED"}, "force": True})
    assert forced.status_code == 201
    assert await _active_slots(client, deployment) == 0


async def test_runs_of_a_deployment_without_a_limit_are_not_held_back(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(client, "unlimited")
    runs = [await _run(client, deployment) for _ in range(3)]
    for run_id in runs:
        result = await _propose(client, run_id, "PENDING")
        assert result["status"] == "ACCEPT"
        assert result["state"]["state_details"]["deployment_concurrency_lease_id"] is None
    # Removing a limit frees nothing it did not hold; setting one makes the deployment's own limit.
    assert (await client.patch(f"/deployments/{deployment['id']}", json={"concurrency_limit": 2})).status_code == 204
    assert (await client.get(f"/deployments/{deployment['id']}")).json()["concurrency_limit"] == 2
    patch = await client.patch(f"/deployments/{deployment['id']}", json={"concurrency_limit": None})
    assert patch.status_code == 204
    assert (await client.get(f"/deployments/{deployment['id']}")).json()["global_concurrency_limit"] is None

"""The websocket /task_runs/subscriptions/scheduled and /task_workers/filter, on SQLite and PostgreSQL, over real
sockets on loopback (the embedded, in-memory task queue; tests/queue covers the Redis one)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

# A scheduled run reaches a waiting subscriber at once; anything near this is a failure.
DELIVERY_TIMEOUT_SECONDS = 3.0

Subscriber = Callable[..., AbstractAsyncContextManager[ClientConnection]]


@pytest.fixture
def subscribe(base_url: str) -> Subscriber:
    url = base_url.replace("http://", "ws://") + "/api/task_runs/subscriptions/scheduled"

    @asynccontextmanager
    async def open_subscription(keys: list[str], client_id: str) -> AsyncIterator[ClientConnection]:
        async with connect(url, subprotocols=[Subprotocol("prefect")]) as socket:
            await socket.send(json.dumps({"type": "auth", "token": None}))
            assert json.loads(await socket.recv()) == {"type": "auth_success"}
            await socket.send(json.dumps({"type": "subscribe", "keys": keys, "client_id": client_id}))
            yield socket

    return open_subscription


async def _schedule(client: httpx.AsyncClient, task_key: str) -> dict[str, Any]:
    """A background task run as `Task.delay` makes it: no flow run, SCHEDULED with `deferred`."""
    response = await client.post(
        "/task_runs/",
        json={
            "task_key": task_key,
            "dynamic_key": f"{task_key}-{uuid.uuid4().hex}",
            "name": task_key,
            "state": {"type": "SCHEDULED", "state_details": {"deferred": True}},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _next_run(socket: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), DELIVERY_TIMEOUT_SECONDS))


async def _assert_silent(socket: ClientConnection, seconds: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(socket.recv(), seconds)


async def test_a_scheduled_run_goes_to_a_subscriber_of_its_key_once_acknowledged(
    client: httpx.AsyncClient, subscribe: Subscriber
) -> None:
    async with subscribe(["other"], "bystander") as bystander, subscribe(["add", "mul"], "worker-1") as worker:
        run = await _schedule(client, "mul")
        delivered = await _next_run(worker)
        assert (delivered["id"], delivered["task_key"], delivered["flow_run_id"]) == (run["id"], "mul", None)
        assert delivered["state"]["type"] == "SCHEDULED" and delivered["state"]["state_details"]["deferred"] is True
        await worker.send(json.dumps({"type": "ack"}))
        await _assert_silent(bystander)
        listed = (await client.post("/task_workers/filter", json={"task_worker_filter": {"task_keys": ["add"]}})).json()
        assert [(worker["identifier"], sorted(worker["task_keys"])) for worker in listed] == [
            ("worker-1", ["add", "mul"])
        ]
        everyone = (await client.post("/task_workers/filter")).json()
        assert sorted(worker["identifier"] for worker in everyone) == ["bystander", "worker-1"]
    # An acknowledged run is done with: a new subscriber gets nothing.
    async with subscribe(["mul"], "worker-2") as later:
        await _assert_silent(later)


async def test_a_run_not_acknowledged_before_the_worker_left_goes_to_the_next(
    client: httpx.AsyncClient, subscribe: Subscriber
) -> None:
    async with subscribe(["flaky"], "leaves") as leaving:
        run = await _schedule(client, "flaky")
        assert (await _next_run(leaving))["id"] == run["id"]
    async with subscribe(["flaky"], "stays") as staying:
        assert (await _next_run(staying))["id"] == run["id"]
        await staying.send(json.dumps({"type": "ack"}))
    # The worker that left is no longer listed (it is forgotten within a take timeout of its socket closing).
    for _ in range(30):
        listed = (await client.post("/task_workers/filter", json={})).json()
        if not listed:
            break
        await asyncio.sleep(0.1)
    assert listed == []


async def test_a_run_made_scheduled_and_deferred_by_set_state_is_queued(
    client: httpx.AsyncClient, subscribe: Subscriber
) -> None:
    created = await client.post("/task_runs/", json={"task_key": "later", "dynamic_key": "later-0"})
    assert created.status_code == 201
    run_id = created.json()["id"]
    async with subscribe(["later"], "worker") as worker:
        await _assert_silent(worker, 0.3)  # a plain Pending run is nobody's background work
        answer = await client.post(
            f"/task_runs/{run_id}/set_state",
            json={"state": {"type": "SCHEDULED", "state_details": {"deferred": True}}, "force": True},
        )
        assert answer.status_code == 201, answer.text
        assert (await _next_run(worker))["id"] == run_id


PROTOCOL_VIOLATIONS: list[tuple[dict[str, Any], dict[str, Any] | None, int, str]] = [
    ({"type": "hello"}, None, 1008, "Expected an auth message first"),
    ({"type": "auth", "token": None}, {"type": "listen"}, 4001, "expected 'subscribe' message"),
    ({"type": "auth", "token": None}, {"type": "subscribe", "client_id": "c"}, 4001, "expected 'keys'"),
    ({"type": "auth", "token": None}, {"type": "subscribe", "keys": ["k"]}, 4001, "expected 'client_id'"),
]


async def test_protocol_violations_close_the_socket_with_a_reason(base_url: str) -> None:
    url = base_url.replace("http://", "ws://") + "/api/task_runs/subscriptions/scheduled"
    for first, second, code, reason in PROTOCOL_VIOLATIONS:
        async with connect(url, subprotocols=[Subprotocol("prefect")]) as socket:
            await socket.send(json.dumps(first))
            if second is not None:
                assert json.loads(await socket.recv()) == {"type": "auth_success"}
                await socket.send(json.dumps(second))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), DELIVERY_TIMEOUT_SECONDS)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, reason in closed.value.rcvd.reason) == (code, True), first


async def test_a_bad_task_worker_filter_is_a_422_with_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/task_workers/filter", json={"task_worker_filter": {"task_keys": "add"}})
    assert response.status_code == 422
    assert "task_worker_filter.task_keys" in response.json()["detail"]

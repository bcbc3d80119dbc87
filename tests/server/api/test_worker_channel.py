"""The worker channel `/work_pools/{name}/workers/connect` (Prefect 3.9), on SQLite and PostgreSQL, over real sockets
on loopback; the frames Baton sends are checked with Prefect's own protocol models."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
from prefect.client.schemas.worker_channel import WorkerReadyFrame, WorkPoolSnapshotFrame, validate_worker_channel_frame
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

TIMEOUT_SECONDS = 5.0
CONSUMER = str(uuid.uuid4())


def _frame(kind: str, payload: dict[str, Any]) -> str:
    return json.dumps(
        {"type": kind, "id": str(uuid.uuid4()), "sent_at": dt.datetime.now(dt.UTC).isoformat(), "payload": payload}
    )


def _hello(**changes: Any) -> str:
    payload = {
        "consumer_id": CONSUMER,
        "worker_name": "w1",
        "worker_type": "process",
        "heartbeat_interval_seconds": 30,
        "supported_channel_versions": ["work_pool_worker_channel.v1"],
        "requested_capabilities": ["worker_heartbeat.v1", "work_pool_snapshot.v1", "cleanup_delivery.v1"],
        "handled_cleanup_kinds": ["cancelling_timeout_teardown.v1"],
        "max_cleanup_concurrency": 1,
        "create_pool_if_not_found": False,
        "default_base_job_template": {"job_configuration": {"command": "{{ command }}"}, "variables": {}},
        **changes,
    }
    return _frame("worker.hello.v1", payload)


def _heartbeat(worker_name: str = "w1") -> str:
    return _frame(
        "worker.heartbeat.v1",
        {"consumer_id": CONSUMER, "worker_name": worker_name, "heartbeat_interval_seconds": 30},
    )


def _channel_url(base_url: str, pool: str) -> str:
    return base_url.replace("http://", "ws://") + f"/api/work_pools/{pool}/workers/connect"


async def _authenticated(base_url: str, pool: str) -> ClientConnection:
    socket = await connect(_channel_url(base_url, pool), subprotocols=[Subprotocol("prefect")])
    await socket.send(json.dumps({"type": "auth", "token": None}))
    assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT_SECONDS)) == {"type": "auth_success"}
    return socket


async def _closed_with(socket: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), TIMEOUT_SECONDS)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_hello_ready_heartbeats_and_snapshots(base_url: str, client: httpx.AsyncClient) -> None:
    assert (await client.post("/work_pools/", json={"name": "channel", "type": "process"})).status_code == 201
    async with await _authenticated(base_url, "channel") as socket:
        await socket.send(_hello())
        ready = validate_worker_channel_frame(json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT_SECONDS)))
        assert isinstance(ready, WorkerReadyFrame)
        assert str(ready.payload.consumer_id) == CONSUMER
        assert ready.payload.accepted_capabilities == ["worker_heartbeat.v1", "work_pool_snapshot.v1"]
        assert ready.payload.rejected_capabilities == ["cleanup_delivery.v1"]
        assert ready.payload.effective_max_cleanup_concurrency == 0
        assert [queue.name for queue in ready.payload.resolved_work_queues] == ["default"]
        snapshot = ready.payload.initial_snapshot
        assert (snapshot.snapshot_sequence, snapshot.reason, snapshot.work_pool.name) == (1, "initial", "channel")
        # The pool had no template: the worker's default is stored, and the hello counted as a heartbeat.
        assert snapshot.work_pool.base_job_template["job_configuration"] == {"command": "{{ command }}"}
        assert snapshot.work_pool.status == "READY"
        workers = (await client.post("/work_pools/channel/workers/filter", json={})).json()
        assert [(worker["name"], worker["status"]) for worker in workers] == [("w1", "ONLINE")]
        first_beat = workers[0]["last_heartbeat_time"]

        await socket.send(_heartbeat())
        with pytest.raises(TimeoutError):  # the pool has not changed: no snapshot
            await asyncio.wait_for(socket.recv(), 0.5)
        workers = (await client.post("/work_pools/channel/workers/filter", json={})).json()
        assert workers[0]["last_heartbeat_time"] > first_beat

        assert (await client.patch("/work_pools/channel", json={"description": "changed"})).status_code == 204
        await socket.send(_heartbeat())
        update = validate_worker_channel_frame(json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT_SECONDS)))
        assert isinstance(update, WorkPoolSnapshotFrame)
        assert (update.payload.snapshot_sequence, update.payload.reason) == (2, "heartbeat_reconciliation")
        assert update.payload.work_pool.description == "changed"

        await socket.send(_heartbeat(worker_name="someone-else"))
        assert await _closed_with(socket) == (1002, "protocol_error")


async def test_a_missing_pool_is_created_when_asked(base_url: str, client: httpx.AsyncClient) -> None:
    async with await _authenticated(base_url, "made-by-channel") as socket:
        await socket.send(_hello(create_pool_if_not_found=True))
        ready = validate_worker_channel_frame(json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT_SECONDS)))
        assert isinstance(ready, WorkerReadyFrame)
    pool = (await client.get("/work_pools/made-by-channel")).json()
    assert (pool["type"], pool["status"]) == ("process", "READY")


async def test_refusals_close_as_prefect_does(base_url: str, client: httpx.AsyncClient) -> None:
    assert (await client.post("/work_pools/", json={"name": "refusing", "type": "process"})).status_code == 201
    async with connect(_channel_url(base_url, "refusing")) as legacy:
        assert await _closed_with(legacy) == (1008, "authentication_failed")
    cases = [
        ("refusing", "not json", (1002, "protocol_error")),
        ("refusing", _heartbeat(), (1002, "protocol_error")),
        ("refusing", _hello(requested_capabilities=["worker_heartbeat.v1"]), (1002, "protocol_error")),
        ("refusing", _hello(supported_channel_versions=["v0"]), (1008, "unsupported_version")),
        ("refusing", _hello(work_queue_names=["nope"]), (1008, "authorization_failed")),
        ("nowhere", _hello(), (1008, "authorization_failed")),
        ("prefect-pool", _hello(create_pool_if_not_found=True), (1008, "authorization_failed")),
    ]
    for pool, message, expected in cases:
        async with await _authenticated(base_url, pool) as socket:
            await socket.send(message)
            assert await _closed_with(socket) == expected, message
    assert (await client.get("/work_pools/nowhere")).status_code == 404
    assert (await client.get("/work_pools/prefect-pool")).status_code == 404

"""Status events of work pools, work queues and deployments (`prefect.work-pool.ready` and the like) over real HTTP on
SQLite and PostgreSQL: written on each transition and only then, readable through /events/filter, and handed to the
trigger engine as an `evaluate_triggers` message."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import dramatiq
import httpx
import orjson
import pytest
import sqlalchemy as sa
from dramatiq.brokers.stub import StubBroker

from baton.actors import work_pool_status
from baton.actors.runtime import ActorRuntime
from baton.queue import messages
from baton.queue.publisher import Publisher
from baton.server.context import ServerContext
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.settings import Settings
from tests.server.api.test_work_pools import _poll, _pool
from tests.server.api.test_worker_channel import TIMEOUT_SECONDS, _authenticated, _heartbeat, _hello

STATUS_PREFIXES = ["prefect.work-pool.", "prefect.work-queue.", "prefect.deployment."]


@pytest.fixture
def broker() -> StubBroker:
    broker = StubBroker()
    for queue_name in messages.QUEUES:
        broker.declare_queue(queue_name)
    return broker


@pytest.fixture
async def server_context(settings: Settings, database: Database, broker: StubBroker) -> AsyncIterator[ServerContext]:
    """The server with a publisher on an in-memory broker, to see the messages its handlers send."""
    publisher = Publisher(broker, batch_size=100, flush_interval=5.0, max_pending=1000)
    context = ServerContext(settings=settings, database=database, publisher=publisher)
    yield context
    await context.close()
    await publisher.close()


def evaluated(broker: StubBroker) -> list[str]:
    """The names of the events in the `evaluate_triggers` messages queued since the last call."""
    queue = broker.queues[messages.AUTOMATIONS_QUEUE]
    names = []
    while not queue.empty():
        message = dramatiq.Message.decode(queue.get_nowait())
        assert message.actor_name == messages.EVALUATE_TRIGGERS
        names += [event["event"] for event in orjson.loads(message.args[0])]
    return names


async def status_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every status event stored, oldest first."""
    body = {"filter": {"event": {"prefix": STATUS_PREFIXES}, "order": "ASC"}, "limit": 50}
    response = await client.post("/events/filter", json=body)
    assert response.status_code == 200, response.text
    return response.json()["events"]


async def sweep(database: Database, broker: StubBroker, settings: Settings) -> None:
    """The foreman's periodic job, as the services run it, with the last poll and heartbeat made old enough."""
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    async with database.write() as connection:
        await connection.execute(sa.update(t.worker).values(last_heartbeat_time=old))
        await connection.execute(sa.update(t.work_queue).values(last_polled=old))
        await connection.execute(sa.update(t.deployment).values(last_polled=old))
    runtime = ActorRuntime(settings, broker, database)
    await work_pool_status.update_work_pool_statuses(runtime)


async def test_a_heartbeat_makes_the_pool_ready_once(client: httpx.AsyncClient, broker: StubBroker) -> None:
    pool = await _pool(client)
    assert evaluated(broker) == ["prefect.work-pool.not-ready"]
    for _ in range(2):
        response = await client.post("/work_pools/pool/workers/heartbeat", json={"name": "w1"})
        assert response.status_code == 204, response.text
    assert evaluated(broker) == ["prefect.work-pool.ready"]

    created, ready = await status_events(client)
    assert created["event"] == "prefect.work-pool.not-ready"
    assert ready["event"] == "prefect.work-pool.ready"
    assert ready["resource"] == {
        "prefect.resource.id": f"prefect.work-pool.{pool['id']}",
        "prefect.resource.name": "pool",
        "prefect.work-pool.type": "process",
    }
    assert (ready["related"], ready["follows"]) == ([], created["id"])


async def test_the_sweep_makes_pool_queue_and_deployment_not_ready(
    client: httpx.AsyncClient, database: Database, broker: StubBroker, settings: Settings
) -> None:
    pool = await _pool(client)
    flow = (await client.post("/flows/", json={"name": "etl"})).json()
    response = await client.post(
        "/deployments/", json={"name": "nightly", "flow_id": flow["id"], "work_pool_name": "pool"}
    )
    assert response.status_code == 201, response.text
    deployment = response.json()
    await client.post("/work_pools/pool/workers/heartbeat", json={"name": "w1"})
    await _poll(client, "pool")
    await _poll(client, "pool")
    assert evaluated(broker) == [
        "prefect.work-pool.not-ready",
        "prefect.work-pool.ready",
        "prefect.work-queue.ready",
        "prefect.deployment.ready",
    ]

    expected = ["prefect.work-pool.not-ready", "prefect.work-queue.not-ready", "prefect.deployment.not-ready"]
    # The sweep hands its events to the trigger engine only when an enabled automation may look at them.
    automation = {
        "name": "not ready",
        "trigger": {"posture": "Reactive", "expect": expected, "match": {"prefect.resource.id": "prefect.*"}},
        "actions": [{"type": "do-nothing"}],
    }
    response = await client.post("/automations/", json=automation)
    assert response.status_code == 201, response.text
    await sweep(database, broker, settings)
    await sweep(database, broker, settings)
    assert evaluated(broker) == expected

    stored = {event["event"]: event for event in (await status_events(client))[-3:]}
    assert sorted(stored) == sorted(expected)
    pool_labels = {
        "prefect.resource.id": f"prefect.work-pool.{pool['id']}",
        "prefect.resource.name": "pool",
        "prefect.work-pool.type": "process",
    }
    pool_event = stored["prefect.work-pool.not-ready"]
    assert pool_event["resource"] == pool_labels
    assert pool_event["follows"] is not None  # the ready event moments before
    queue_event = stored["prefect.work-queue.not-ready"]
    assert queue_event["resource"] == {
        "prefect.resource.id": f"prefect.work-queue.{pool['default_queue_id']}",
        "prefect.resource.name": "default",
        "prefect.resource.role": "work-queue",
    }
    assert queue_event["related"] == [{**pool_labels, "prefect.resource.role": "work-pool"}]
    deployment_event = stored["prefect.deployment.not-ready"]
    assert deployment_event["resource"] == {
        "prefect.resource.id": f"prefect.deployment.{deployment['id']}",
        "prefect.resource.name": "nightly",
    }
    assert deployment_event["related"] == [
        {
            "prefect.resource.id": f"prefect.flow.{flow['id']}",
            "prefect.resource.name": "etl",
            "prefect.resource.role": "flow",
        },
        {
            "prefect.resource.id": f"prefect.work-queue.{pool['default_queue_id']}",
            "prefect.resource.name": "default",
            "prefect.resource.role": "work-queue",
        },
        {**pool_labels, "prefect.resource.role": "work-pool"},
    ]
    statuses = (
        (await client.get("/work_pools/pool")).json()["status"],
        (await client.get(f"/deployments/{deployment['id']}")).json()["status"],
    )
    assert statuses == ("NOT_READY", "NOT_READY")


async def test_pausing_and_resuming_emit_the_new_status(client: httpx.AsyncClient, broker: StubBroker) -> None:
    pool = await _pool(client)
    await client.post("/work_pools/pool/workers/heartbeat", json={"name": "w1"})
    evaluated(broker)
    for paused in (True, True, False):
        response = await client.patch("/work_pools/pool", json={"is_paused": paused})
        assert response.status_code == 204, response.text
    assert evaluated(broker) == ["prefect.work-pool.paused", "prefect.work-pool.ready"]

    queue_id = pool["default_queue_id"]
    for paused in (True, True, False, False):
        response = await client.patch("/work_pools/pool/queues/default", json={"is_paused": paused})
        assert response.status_code == 204, response.text
    assert (await client.patch(f"/work_queues/{queue_id}", json={"is_paused": True})).status_code == 204
    assert evaluated(broker) == [
        "prefect.work-queue.paused",
        "prefect.work-queue.not-ready",
        "prefect.work-queue.paused",
    ]
    await _poll(client, "pool")  # a paused queue stays PAUSED when polled
    assert evaluated(broker) == []
    # Resumed after a recent poll, the queue is READY at once.
    assert (await client.patch(f"/work_queues/{queue_id}", json={"is_paused": False})).status_code == 204
    assert evaluated(broker) == ["prefect.work-queue.ready"]

    stored = [(event["event"], event["resource"]["prefect.resource.id"]) for event in await status_events(client)]
    pool_resource, queue_resource = f"prefect.work-pool.{pool['id']}", f"prefect.work-queue.{queue_id}"
    assert stored == [
        ("prefect.work-pool.not-ready", pool_resource),
        ("prefect.work-pool.ready", pool_resource),
        ("prefect.work-pool.paused", pool_resource),
        ("prefect.work-pool.ready", pool_resource),
        ("prefect.work-queue.paused", queue_resource),
        ("prefect.work-queue.not-ready", queue_resource),
        ("prefect.work-queue.paused", queue_resource),
        ("prefect.work-queue.ready", queue_resource),
    ]
    queue = (await client.get(f"/work_queues/{queue_id}")).json()
    assert (queue["status"], queue["is_paused"]) == ("READY", False)


async def test_a_pool_created_paused_says_so(client: httpx.AsyncClient, database: Database) -> None:
    pool = await _pool(client, "held", is_paused=True)
    (event,) = await status_events(client)
    assert (event["event"], event["follows"]) == ("prefect.work-pool.paused", None)
    async with database.read() as connection:
        stored_id = await connection.scalar(
            sa.select(t.work_pool.c.last_status_event_id).where(t.work_pool.c.id == uuid.UUID(pool["id"]))
        )
    assert str(stored_id) == event["id"]


async def test_the_worker_channel_creates_a_ready_pool(
    base_url: str, client: httpx.AsyncClient, broker: StubBroker
) -> None:
    async with await _authenticated(base_url, "channel") as socket:
        await socket.send(_hello(create_pool_if_not_found=True))
        ready = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT_SECONDS))
        assert ready["type"] == "worker.ready.v1"
        await socket.send(_heartbeat())
        await asyncio.sleep(0.3)  # the heartbeat frame has no answer
    assert evaluated(broker) == ["prefect.work-pool.not-ready", "prefect.work-pool.ready"]
    created, became_ready = await status_events(client)
    assert (created["event"], became_ready["event"]) == ("prefect.work-pool.not-ready", "prefect.work-pool.ready")
    assert became_ready["follows"] == created["id"]
    assert (await client.get("/work_pools/channel")).json()["status"] == "READY"


async def test_a_served_flow_polling_its_deployments_makes_them_ready_once(
    client: httpx.AsyncClient, broker: StubBroker
) -> None:
    flow = (await client.post("/flows/", json={"name": "served"})).json()
    deployment = (await client.post("/deployments/", json={"name": "d", "flow_id": flow["id"]})).json()
    assert deployment["status"] == "NOT_READY"
    for _ in range(2):
        response = await client.post(
            "/deployments/get_scheduled_flow_runs", json={"deployment_ids": [deployment["id"], str(uuid.uuid4())]}
        )
        assert response.status_code == 200, response.text
    assert evaluated(broker) == ["prefect.deployment.ready"]
    (event,) = await status_events(client)
    assert event["resource"] == {
        "prefect.resource.id": f"prefect.deployment.{deployment['id']}",
        "prefect.resource.name": "d",
    }
    assert event["related"] == [
        {
            "prefect.resource.id": f"prefect.flow.{flow['id']}",
            "prefect.resource.name": "served",
            "prefect.resource.role": "flow",
        }
    ]
    read = (await client.get(f"/deployments/{deployment['id']}")).json()
    assert read["status"] == "READY" and read["last_polled"] is not None

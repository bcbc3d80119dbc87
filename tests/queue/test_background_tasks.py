"""The background task queue, in memory and in a real Redis: order, acks, requeues, orphans, the worker registry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from baton.queue.background_tasks import MemoryTaskQueue, TaskQueue
from baton.queue.background_tasks import redis as redis_queue
from baton.queue.background_tasks.redis import RedisTaskQueue
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace


@pytest.fixture
async def redis_namespace() -> AsyncIterator[str]:
    namespace = new_namespace()
    yield f"{namespace}:tasks"
    delete_namespace(namespace)


@pytest.fixture(params=["memory", "redis"])
async def queue(request: pytest.FixtureRequest, redis_namespace: str) -> AsyncIterator[TaskQueue]:
    made: TaskQueue = MemoryTaskQueue() if request.param == "memory" else RedisTaskQueue(REDIS_URL, redis_namespace)
    yield made
    await made.close()


async def test_runs_come_in_order_retries_first_and_only_for_the_keys_asked(queue: TaskQueue) -> None:
    await queue.enqueue("a", b"a1")
    await queue.enqueue("b", b"b1")
    await queue.enqueue("a", b"a2")
    await queue.enqueue("a", b"a0", retry=True)
    taken = [await queue.take(["a"], 0.1) for _ in range(4)]
    assert [delivery.payload if delivery else None for delivery in taken] == [b"a0", b"a1", b"a2", None]
    other = await queue.take(["x", "b"], 0.1)
    assert other is not None and (other.task_key, other.payload) == ("b", b"b1")


async def test_an_unacknowledged_run_is_served_again_first_and_an_acknowledged_one_never(queue: TaskQueue) -> None:
    await queue.enqueue("k", b"one")
    await queue.enqueue("k", b"two")
    first = await queue.take(["k"], 0.1)
    assert first is not None
    await queue.requeue(first)
    await queue.requeue(first)  # a second requeue of the same copy queues nothing
    again = await queue.take(["k"], 0.1)
    assert again is not None and again.payload == b"one" and again.token != first.token
    await queue.ack(again)
    second = await queue.take(["k"], 0.1)
    assert second is not None and second.payload == b"two"
    await queue.ack(second)
    assert await queue.take(["k"], 0.1) is None


async def test_a_waiting_taker_gets_a_run_as_soon_as_it_is_queued(queue: TaskQueue) -> None:
    waiting = asyncio.create_task(queue.take(["k"], 5.0))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await queue.enqueue("k", b"run")
    delivery = await waiting
    assert delivery is not None and delivery.payload == b"run"
    assert time.monotonic() - started < 0.5


async def test_workers_are_listed_while_connected_and_filtered_by_key(queue: TaskQueue) -> None:
    await queue.observe_worker("w1", ["a", "b"])
    await queue.observe_worker("w2", ["c"])
    everyone = sorted((worker.identifier, worker.task_keys) for worker in await queue.read_workers())
    assert everyone == [("w1", ["a", "b"]), ("w2", ["c"])]
    assert [worker.identifier for worker in await queue.read_workers(["c", "z"])] == ["w2"]
    assert (await queue.read_workers(["a"]))[0].as_json()["timestamp"]
    await queue.forget_worker("w1")
    assert [worker.identifier for worker in await queue.read_workers()] == ["w2"]


async def test_a_run_queued_through_one_process_reaches_a_taker_in_another(redis_namespace: str) -> None:
    sender, receiver = RedisTaskQueue(REDIS_URL, redis_namespace), RedisTaskQueue(REDIS_URL, redis_namespace)
    try:
        waiting = asyncio.create_task(receiver.take(["k"], 5.0))
        await asyncio.sleep(0.2)  # the receiver is listening for rings
        started = time.monotonic()
        await sender.enqueue("k", b"run")
        delivery = await waiting
        assert delivery is not None and delivery.payload == b"run"
        # Woken by the ring, not by its once-a-second look.
        assert time.monotonic() - started < redis_queue.POLL_SECONDS / 2
    finally:
        await sender.close()
        await receiver.close()


async def test_runs_in_flight_in_a_dead_process_are_served_again(
    redis_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead, alive = RedisTaskQueue(REDIS_URL, redis_namespace), RedisTaskQueue(REDIS_URL, redis_namespace)
    try:
        await dead.enqueue("k", b"orphan")
        taken = await dead.take(["k"], 0.1)
        assert taken is not None
        assert await alive.take(["k"], 0.1) is None  # swept just now: in flight, and renewed in time
        # Its last renewal was due now, and nobody renews it any more.
        monkeypatch.setattr(redis_queue, "IN_FLIGHT_SECONDS", 0.0)
        await dead.keep_in_flight(taken)
        monkeypatch.setattr(redis_queue, "SWEEP_SECONDS", 0.0)
        again = await alive.take(["k"], 1.0)
        assert again is not None and again.payload == b"orphan"
        await alive.ack(again)
        await dead.ack(taken)  # a late ack of the orphaned copy changes nothing
        assert await alive.take(["k"], 0.1) is None
    finally:
        await dead.close()
        await alive.close()

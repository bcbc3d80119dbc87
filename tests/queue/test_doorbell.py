"""Idle consumers wait on their queue's doorbell: a ring wakes one at once, and without rings they fetch rarely."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from baton.queue.doorbell import MAX_RINGS, bell_key
from baton.queue.redis_broker import BatonRedisBroker
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace

QUEUE = "doorbell_test"


class Received:
    """When the test actor ran, per message argument."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.arrived = threading.Condition()

    def note(self, name: str) -> None:
        with self.arrived:
            self.at[name] = time.monotonic()
            self.arrived.notify_all()

    def wait_for(self, name: str, timeout: float) -> float | None:
        with self.arrived:
            self.arrived.wait_for(lambda: name in self.at, timeout=timeout)
        return self.at.get(name)


class Fixture:
    def __init__(self, idle_wait_ms: int) -> None:
        self.namespace = new_namespace()
        self.broker = BatonRedisBroker(url=REDIS_URL, namespace=self.namespace, idle_wait_ms=idle_wait_ms)
        self.received = Received()
        self.fetches: list[float] = []
        self.actor = dramatiq.actor(self.received.note, actor_name="note", queue_name=QUEUE, broker=self.broker)
        fetch = self.broker._dispatch("fetch")

        def counted_fetch(queue_name: str, *args: Any) -> Any:
            if queue_name == QUEUE:
                self.fetches.append(time.monotonic())
            return fetch(queue_name, *args)

        # An instance attribute is found before the broker's `__getattr__`, which makes `do_<command>` on demand.
        self.broker.do_fetch = counted_fetch  # type: ignore[method-assign]
        self.worker: dramatiq.Worker | None = None

    def start_worker(self) -> None:
        self.worker = dramatiq.Worker(self.broker, worker_threads=1, worker_timeout=100)
        self.worker.start()

    def settle(self) -> None:
        """Wait until the worker's consumer has found its queue empty and is waiting on the bell."""
        deadline = time.monotonic() + 5
        while not self.fetches and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.fetches, "the worker never fetched"
        time.sleep(0.2)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        delete_namespace(self.namespace)
        self.broker.close()
        self.broker.client.connection_pool.disconnect()  # Dramatiq's close leaves the pool's sockets open

    def rings(self) -> int:
        with redis.Redis.from_url(REDIS_URL) as client:
            return int(client.llen(bell_key(self.namespace, QUEUE)))


@pytest.fixture
def doorbell() -> Iterator[Callable[[int], Fixture]]:
    made: list[Fixture] = []

    def make(idle_wait_ms: int) -> Fixture:
        made.append(Fixture(idle_wait_ms))
        return made[-1]

    yield make
    for fixture in made:
        fixture.close()


def test_a_ring_wakes_an_idle_consumer_long_before_its_wait_ends(doorbell: Callable[[int], Fixture]) -> None:
    queue = doorbell(4_000)
    queue.start_worker()
    queue.settle()
    sent = time.monotonic()
    queue.actor.send("rung")
    arrived = queue.received.wait_for("rung", timeout=10)
    assert arrived is not None
    # Without the ring the consumer would sleep out its 4 s wait (3.8 s after `settle`).
    assert arrived - sent < 1.5


def test_an_idle_consumer_fetches_about_once_per_wait_not_ten_times_a_second(
    doorbell: Callable[[int], Fixture],
) -> None:
    queue = doorbell(1_000)
    queue.start_worker()
    queue.settle()
    before = len(queue.fetches)
    time.sleep(2.5)
    idle_fetches = len(queue.fetches) - before
    # A 1 s wait makes 2 or 3 fetches in 2.5 s; polling every 100 ms would make about 25.
    assert 1 <= idle_fetches <= 4, queue.fetches


def test_a_message_queued_without_a_ring_is_fetched_when_the_wait_ends(doorbell: Callable[[int], Fixture]) -> None:
    queue = doorbell(500)
    queue.start_worker()
    queue.settle()
    RedisBroker.enqueue(queue.broker, queue.actor.message("unrung"))
    assert queue.received.wait_for("unrung", timeout=5) is not None


def test_rings_pile_up_to_a_bound_while_nobody_waits(doorbell: Callable[[int], Fixture]) -> None:
    queue = doorbell(1_000)
    for number in range(MAX_RINGS + 20):
        queue.actor.send(f"message {number}")
    assert queue.rings() == MAX_RINGS
    queue.start_worker()
    assert queue.received.wait_for(f"message {MAX_RINGS + 19}", timeout=10) is not None
    assert len(queue.received.at) == MAX_RINGS + 20


def test_a_delayed_message_rings_its_delay_queue_and_rings_again_when_due(doorbell: Callable[[int], Fixture]) -> None:
    queue = doorbell(4_000)
    queue.start_worker()
    queue.settle()
    sent = time.monotonic()
    queue.actor.send_with_options(args=("later",), delay=300)
    arrived = queue.received.wait_for("later", timeout=10)
    assert arrived is not None
    # Both idle consumers (the delay queue's and the queue's) wait up to 4 s: the delay queue's ring wakes the first,
    # which holds the message until it is due and then queues it with a ring for the second.
    assert 0.3 <= arrived - sent < 1.5


def test_an_idle_worker_stops_without_sitting_out_its_wait(doorbell: Callable[[int], Fixture]) -> None:
    queue = doorbell(4_000)
    queue.start_worker()
    queue.settle()
    assert queue.worker is not None
    started = time.monotonic()
    queue.worker.stop()
    queue.worker = None
    # The consumers were woken through the broker's wake list; waiting out the bell would take up to 4 s.
    assert time.monotonic() - started < 1.0

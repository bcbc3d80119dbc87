"""Actor throughput and failures counted by the middleware every Baton broker carries, and the in-memory queues'
depth; real Dramatiq workers on the in-memory broker, metrics read back with prometheus_client's parser."""

from __future__ import annotations

import time

import dramatiq
from prometheus_client import CollectorRegistry, generate_latest

from baton.queue.actor_metrics import ACTOR_COLLECTORS
from baton.queue.broker import make_broker
from baton.queue.depth import read_queue_depths
from baton.settings import Settings
from tests.server.api.test_metrics import Samples, parsed_samples


def actor_samples() -> Samples:
    registry = CollectorRegistry()
    for collector in ACTOR_COLLECTORS:
        registry.register(collector)
    return parsed_samples(generate_latest(registry).decode())


def test_messages_are_counted_by_outcome_and_timed(tmp_path: str) -> None:
    broker = make_broker(Settings(home=tmp_path))
    calls: list[int] = []

    def flaky(number: int) -> None:
        calls.append(number)
        if number < 0:
            raise ValueError("negative")

    actor = dramatiq.Actor(
        flaky, broker=broker, actor_name="metrics_probe", queue_name="periodic", priority=0, options={}
    )
    labels = {"actor": "metrics_probe", "queue": "periodic"}
    before = actor_samples()
    for number in (1, 2, -1):
        actor.send_with_options(args=(number,), max_retries=0)
    depths = {depth.queue: depth for depth in read_queue_depths(broker)}

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join("periodic", timeout=10_000, fail_fast=False)
    finally:
        worker.stop()
    after = actor_samples()

    assert depths["periodic"].waiting == 3 and depths["events"].waiting == 0
    assert 0 <= depths["periodic"].oldest_age_seconds < 5
    assert sorted(calls) == [-1, 1, 2]

    def grew(name: str, **extra: str) -> float:
        key = (name, frozenset({**labels, **extra}.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("baton_actor_messages_total", outcome="succeeded") == 2
    assert grew("baton_actor_messages_total", outcome="failed") == 1
    assert grew("baton_actor_dead_letters_total") == 1
    assert grew("baton_actor_duration_seconds_count") == 3
    assert [depth.waiting for depth in read_queue_depths(broker)] == [0] * len(depths)


def test_the_oldest_waiting_message_gives_the_queue_its_age(tmp_path: str) -> None:
    broker = make_broker(Settings(home=tmp_path))
    aged = dramatiq.Message(
        queue_name="events",
        actor_name="record_events",
        args=([],),
        kwargs={},
        options={},
        message_timestamp=int(time.time() * 1000) - 90_000,
    )
    broker.enqueue(aged)
    (events,) = [depth for depth in read_queue_depths(broker) if depth.queue == "events"]
    assert events.waiting == 1 and 89 < events.oldest_age_seconds < 120

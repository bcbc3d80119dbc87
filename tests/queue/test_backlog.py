"""The actors' backlog as the API measures it, and flow-run state changes waiting on it."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from baton.queue import messages, publisher
from baton.queue.backlog import outstanding_messages
from baton.queue.publisher import Publisher
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace


def _change() -> messages.FlowRunStateChange:
    return messages.FlowRunStateChange(flow_run_id=str(uuid.uuid4()), state_id=str(uuid.uuid4()), from_state=None)


def _fill(broker: dramatiq.Broker) -> None:
    """Two state-change messages, one delivery message and three event batches."""
    broker.enqueue(messages.emit_flow_run_events([_change()]))
    broker.enqueue(messages.emit_flow_run_events([_change()]))
    broker.enqueue(messages.deliver_notifications([str(uuid.uuid4())]))
    for _ in range(3):
        broker.enqueue(messages.record_events([{"id": str(uuid.uuid4())}]))


def _stub_broker() -> StubBroker:
    broker = StubBroker()
    for queue_name in messages.QUEUES:
        broker.declare_queue(queue_name)
    return broker


@pytest.fixture
def redis_broker() -> Iterator[RedisBroker]:
    namespace = new_namespace()
    broker = RedisBroker(url=REDIS_URL, namespace=namespace)
    for queue_name in messages.QUEUES:
        broker.declare_queue(queue_name)
    yield broker
    delete_namespace(namespace)
    broker.close()


def test_the_backlog_counts_state_change_and_notification_messages_not_event_batches(
    redis_broker: RedisBroker,
) -> None:
    stub = _stub_broker()
    assert outstanding_messages(stub) == 0
    assert outstanding_messages(redis_broker) == 0
    _fill(stub)
    _fill(redis_broker)
    assert outstanding_messages(stub) == 3
    assert outstanding_messages(redis_broker) == 3


def test_a_message_leaves_the_redis_backlog_when_it_is_acknowledged(redis_broker: RedisBroker) -> None:
    redis_broker.enqueue(messages.deliver_notifications([str(uuid.uuid4())]))
    consumer = redis_broker.consume(messages.NOTIFICATIONS_QUEUE, prefetch=1, timeout=100)
    fetched = next(message for message in consumer if message is not None)
    assert outstanding_messages(redis_broker) == 1  # fetched, being worked on
    consumer.ack(fetched)
    assert outstanding_messages(redis_broker) == 0
    consumer.close()


async def test_a_state_change_waits_while_the_actors_are_behind_and_goes_once_they_catch_up() -> None:
    broker = _stub_broker()
    _fill(broker)
    gate = Publisher(broker, batch_size=10, flush_interval=0.1, max_pending=100, backlog_limit=2)

    async def work_off() -> None:
        await asyncio.sleep(0.3)
        for queue_name in (messages.STATE_CHANGES_QUEUE, messages.NOTIFICATIONS_QUEUE):
            queue = broker.queues[queue_name]
            while not queue.empty():
                queue.get_nowait()
                queue.task_done()

    started = time.perf_counter()
    worker = asyncio.ensure_future(work_off())
    await gate.wait_for_actors()
    waited = time.perf_counter() - started
    await worker
    assert 0.3 <= waited < 0.3 + 0.3, waited
    started = time.perf_counter()
    await gate.wait_for_actors()  # nothing behind now
    assert time.perf_counter() - started < 0.1
    await gate.close()


async def test_the_wait_is_bounded_when_no_actor_works_the_queue(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(publisher, "BACKLOG_MAX_WAIT_SECONDS", 0.3)
    broker = _stub_broker()
    _fill(broker)
    gate = Publisher(broker, batch_size=10, flush_interval=0.1, max_pending=100, backlog_limit=2)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="baton.queue"):
        await gate.wait_for_actors()
        assert 0.3 <= time.perf_counter() - started < 0.6
        await gate.wait_for_actors()
    warnings = [record.getMessage() for record in caplog.records if record.name == "baton.queue"]
    assert len(warnings) == 1, warnings  # once a minute, not once per request
    assert "The actors are 3 messages behind (more than BATON_QUEUE_BACKLOG_LIMIT=2)" in warnings[0]
    assert "baton server services" in warnings[0]
    unlimited = Publisher(broker, batch_size=10, flush_interval=0.1, max_pending=100, backlog_limit=0)
    started = time.perf_counter()
    await unlimited.wait_for_actors()  # 0 turns the wait off
    assert time.perf_counter() - started < 0.05
    await gate.close()
    await unlimited.close()


async def test_an_unreachable_queue_holds_nothing_and_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    broker = RedisBroker(url="redis://127.0.0.1:1/0", namespace=f"baton-test-{uuid.uuid4().hex[:8]}")  # nothing there
    gate = Publisher(broker, batch_size=10, flush_interval=0.1, max_pending=100, backlog_limit=2)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="baton.queue"):
        for _ in range(3):
            await gate.wait_for_actors()
            await asyncio.sleep(publisher.BACKLOG_POLL_SECONDS)
    assert time.perf_counter() - started < 1.0
    warnings = [record.getMessage() for record in caplog.records if record.name == "baton.queue"]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("Could not read the queue backlog; state changes do not wait for it")
    await gate.close()

"""The publisher's batching: events wait up to the flush interval to fill a batch; a flow-run state change does not."""

from __future__ import annotations

import asyncio
import uuid

import dramatiq
import orjson
from dramatiq.brokers.stub import StubBroker

from baton.queue import messages
from baton.queue.publisher import STATE_CHANGE_FLUSH_SECONDS, Publisher


def _broker() -> StubBroker:
    broker = StubBroker()
    for queue_name in messages.QUEUES:
        broker.declare_queue(queue_name)
    return broker


def _queued(broker: StubBroker) -> list[tuple[str, int]]:
    """(actor name, number of items in its argument) of every message queued, queue by queue."""
    found = []
    for queue_name in messages.QUEUES:
        queue = broker.queues[queue_name]
        while not queue.empty():
            message = dramatiq.Message.decode(queue.get_nowait())
            argument = message.args[0]
            if message.actor_name == messages.RECORD_EVENTS:  # the batch travels as its JSON text
                argument = orjson.loads(argument)
            found.append((message.actor_name, len(argument)))
    return found


async def test_events_wait_for_the_flush_interval_and_a_state_change_sends_them_sooner() -> None:
    broker = _broker()
    publisher = Publisher(broker, batch_size=100, flush_interval=5.0, max_pending=1000)
    await publisher.publish_events([{"id": str(uuid.uuid4())}, {"id": str(uuid.uuid4())}])
    await asyncio.sleep(3 * STATE_CHANGE_FLUSH_SECONDS)
    assert _queued(broker) == []  # still filling the batch
    change = messages.FlowRunStateChange(flow_run_id=str(uuid.uuid4()), state_id=str(uuid.uuid4()), from_state=None)
    publisher.flow_run_state_changed(change)
    await asyncio.sleep(3 * STATE_CHANGE_FLUSH_SECONDS)
    assert _queued(broker) == [(messages.RECORD_EVENTS, 2), (messages.EMIT_FLOW_RUN_EVENTS, 1)]
    await publisher.close()


async def test_a_full_batch_goes_at_once_and_the_rest_after_the_interval() -> None:
    broker = _broker()
    publisher = Publisher(broker, batch_size=3, flush_interval=0.2, max_pending=1000)
    await publisher.publish_events([{"id": str(uuid.uuid4())} for _ in range(4)])
    assert _queued(broker) == [(messages.RECORD_EVENTS, 3), (messages.RECORD_EVENTS, 1)]
    await publisher.publish_events([{"id": str(uuid.uuid4())}])
    assert _queued(broker) == []
    await asyncio.sleep(1.0)
    assert _queued(broker) == [(messages.RECORD_EVENTS, 1)]
    await publisher.close()

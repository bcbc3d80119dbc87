"""How far behind the actors are: the messages of the state-change and notifications queues that are waiting or
being worked on (not the events queue: clients' event batches must not hold up flow-run state changes). The API
server holds new flow-run state changes while this is high (`Publisher.wait_for_actors`)."""

from __future__ import annotations

import dramatiq

from baton.queue.names import NOTIFICATIONS_QUEUE, STATE_CHANGES_QUEUE
from baton.queue.redis_mode import is_redis_broker

PIPELINE_QUEUES = (STATE_CHANGES_QUEUE, NOTIFICATIONS_QUEUE)


def outstanding_messages(broker: dramatiq.Broker) -> int:
    """Messages of the pipeline queues not yet acknowledged (queued, prefetched or running; not the delayed retries).
    Blocking: one Redis round trip in Redis mode."""
    if is_redis_broker(broker):
        # Dramatiq keeps each message of a queue in the hash `<namespace>:<queue>.msgs` until it is acknowledged.
        pipeline = broker.client.pipeline(transaction=False)
        for queue_name in PIPELINE_QUEUES:
            pipeline.hlen(f"{broker.namespace}:{queue_name}.msgs")
        return sum(pipeline.execute())
    queues = getattr(broker, "queues", {})
    return sum(queues[name].unfinished_tasks for name in PIPELINE_QUEUES if name in queues)

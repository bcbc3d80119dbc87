"""How many messages wait on each queue and how long the oldest has waited, read from the broker itself.

Dramatiq's Redis broker (its dispatch.lua) keeps a queue as the list `<namespace>:<queue>` of message ids waiting to
be fetched, in arrival order, and each message's data in the hash `<namespace>:<queue>.msgs` until it is
acknowledged; retries wait in the delay queue `<queue>.DQ`, dead letters in the sorted set `<queue>.XQ`. The oldest
waiting message is the head of the list, and its data carries `message_timestamp` (ms since the epoch). Dramatiq's
in-memory broker keeps each queue as a `queue.Queue` of encoded messages, oldest first.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple

import dramatiq
import orjson

from baton.queue.names import QUEUES
from baton.queue.redis_mode import is_redis_broker

if TYPE_CHECKING:
    import redis
    from dramatiq.brokers.redis import RedisBroker


class QueueDepth(NamedTuple):
    queue: str
    #: Messages waiting to be fetched by a worker (not the ones being worked on, not the delayed retries).
    waiting: int
    #: Seconds the oldest waiting message has waited; 0 with none waiting.
    oldest_age_seconds: float
    #: Messages waiting for a later time (retries with backoff, summaries due later).
    delayed: int
    #: Messages that failed their last retry (kept by the Redis broker for a week; always 0 in memory).
    dead_lettered: int


def read_queue_depths(broker: dramatiq.Broker) -> list[QueueDepth]:
    """The depth of each of Baton's queues. Blocking: two Redis round trips in Redis mode; raises
    redis.RedisError when Redis does not answer."""
    if is_redis_broker(broker):
        return _redis_depths(broker)
    return [_memory_depth(broker, name) for name in QUEUES]


def ping(broker: dramatiq.Broker) -> None:
    """Raise redis.RedisError (or OSError) when the broker's Redis does not answer; nothing for the in-memory one."""
    if is_redis_broker(broker):
        broker.client.ping()


def _redis_depths(broker: RedisBroker) -> list[QueueDepth]:
    client: redis.Redis = broker.client
    prefix = broker.namespace
    pipeline = client.pipeline(transaction=False)
    for name in QUEUES:
        pipeline.llen(f"{prefix}:{name}")
        pipeline.lindex(f"{prefix}:{name}", 0)
        pipeline.llen(f"{prefix}:{name}.DQ")
        pipeline.zcard(f"{prefix}:{name}.XQ")
    counts = pipeline.execute()
    heads = client.pipeline(transaction=False)
    for index, name in enumerate(QUEUES):
        head = counts[index * 4 + 1]
        heads.hget(f"{prefix}:{name}.msgs", head if head is not None else b"")
    head_messages = heads.execute()
    now = time.time()
    return [
        QueueDepth(
            queue=name,
            waiting=int(counts[index * 4]),
            oldest_age_seconds=_age_seconds(head_messages[index], now),
            delayed=int(counts[index * 4 + 2]),
            dead_lettered=int(counts[index * 4 + 3]),
        )
        for index, name in enumerate(QUEUES)
    ]


def _memory_depth(broker: dramatiq.Broker, name: str) -> QueueDepth:
    queues: dict[str, Any] = getattr(broker, "queues", {})
    waiting = queues.get(name)
    delayed = queues.get(dramatiq.common.dq_name(name))
    # The queue's own deque, read without taking it off the queue; a message taken meanwhile leaves it empty.
    pending = list(waiting.queue)[:1] if waiting is not None else []
    return QueueDepth(
        queue=name,
        waiting=waiting.qsize() if waiting is not None else 0,
        oldest_age_seconds=_age_seconds(pending[0] if pending else None, time.time()),
        delayed=delayed.qsize() if delayed is not None else 0,
        dead_lettered=0,
    )


def _age_seconds(encoded: bytes | None, now: float) -> float:
    """Seconds since the `message_timestamp` of an encoded message; 0 for none (or one that is unreadable)."""
    if not encoded:
        return 0.0
    try:
        timestamp_ms = orjson.loads(encoded)["message_timestamp"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return 0.0
    return max(now - timestamp_ms / 1000, 0.0)

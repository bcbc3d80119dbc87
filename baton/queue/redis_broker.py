"""Baton's Dramatiq Redis broker: Dramatiq's, with a doorbell per queue so that idle consumers wait instead of
polling (see baton.queue.doorbell). Imported only in Redis mode (baton.queue.broker.make_broker)."""

from __future__ import annotations

import logging
import uuid
import weakref
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware

from baton.queue.doorbell import IDLE_WAIT_MS, DoorbellConsumer, ring

logger = logging.getLogger("baton.queue")

# A consumer whose prefetch is full polls for room with a backoff that grows to this (Dramatiq's worker timeout, 1 s
# by default, would leave a busy queue's next batch waiting up to a second). An idle consumer waits on its queue's
# doorbell instead (`baton.queue.doorbell`), delay queues (Dramatiq's `<queue>.DQ`, which hold retries) included.
MAX_BUSY_POLL_MS = 100
# A wake list outlives its process's shutdown by this long at most.
WAKE_KEY_TTL_SECONDS = 60
# The share (per million) of Redis fetches that also look for dead services processes and requeue the messages they
# held. Dramatiq's default (0.1%) can leave a dead process's messages waiting for minutes after its heartbeat
# timeout; an idle consumer fetches about once a second (IDLE_WAIT_MS), and 10% of those find them within seconds,
# for one cheap sorted-set query each.
MAINTENANCE_CHANCE = 100_000


class BatonRedisBroker(RedisBroker):
    """Dramatiq's Redis broker with a doorbell per queue: enqueuing rings it, idle consumers wait on it (at most
    `idle_wait_ms` before fetching anyway)."""

    def __init__(self, *, idle_wait_ms: int = IDLE_WAIT_MS, **options: Any) -> None:
        super().__init__(**options)
        self.idle_wait_ms = idle_wait_ms
        self._doorbell_consumers: weakref.WeakSet[DoorbellConsumer] = weakref.WeakSet()
        # Besides its queue's bell, an idle consumer waits on this process's own wake list, which only shutdown rings.
        self.wake_key = f"{self.namespace}:wake.{uuid.uuid4().hex}"
        self.add_middleware(_EndIdleWaitsOnShutdown())

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Any:
        consumer = DoorbellConsumer(
            self, queue_name, prefetch, busy_poll_ms=min(timeout, MAX_BUSY_POLL_MS), idle_wait_ms=self.idle_wait_ms
        )
        self._doorbell_consumers.add(consumer)
        return consumer

    def end_idle_waits(self) -> None:
        """Make this process's consumers stop waiting on their bells, and wake those waiting now."""
        consumers = list(self._doorbell_consumers)
        for consumer in consumers:
            consumer.stop_waiting()
        if not consumers:
            return
        try:
            pipeline = self.client.pipeline(transaction=False)
            pipeline.rpush(self.wake_key, *[1] * len(consumers))
            pipeline.expire(self.wake_key, WAKE_KEY_TTL_SECONDS)
            pipeline.execute()
        except redis.RedisError as exc:
            logger.warning(
                "Could not wake the idle consumers for shutdown (they stop within %d ms): %s", self.idle_wait_ms, exc
            )

    def enqueue(self, message: dramatiq.Message[Any], *, delay: int | None = None) -> dramatiq.Message[Any]:
        queued = super().enqueue(message, delay=delay)
        try:
            # A delayed message goes to the delay queue, whose bell this rings.
            ring(self.client, self.namespace, queued.queue_name)
        except redis.RedisError as exc:
            # The message is queued; without the ring it waits for a consumer's next fetch (IDLE_WAIT_MS).
            logger.warning("Queued a %s message but could not ring its queue's bell: %s", message.actor_name, exc)
        return queued


class _EndIdleWaitsOnShutdown(Middleware):  # type: ignore[misc]
    """Dramatiq stops a worker's threads, then its consumers, and waits for each: without this, a consumer waiting
    on its bell would hold the shutdown up for as long as IDLE_WAIT_MS."""

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if isinstance(broker, BatonRedisBroker):
            broker.end_idle_waits()

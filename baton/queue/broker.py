"""The Dramatiq broker: Redis when `BATON_REDIS_URL` is set, Dramatiq's in-memory broker otherwise."""

from __future__ import annotations

import logging
import uuid
import weakref
from typing import Any

import dramatiq
import orjson
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware, Retries

from baton.errors import SettingsError
from baton.queue.actor_metrics import ActorMetrics
from baton.queue.doorbell import IDLE_WAIT_MS, DoorbellConsumer, ring
from baton.queue.messages import QUEUES

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
# Transient failures (a busy database, a restart) are retried with backoff; a message that still fails after this is
# dead-lettered by Dramatiq and logged.
MAX_RETRIES = 10
MIN_BACKOFF_MS = 200
MAX_BACKOFF_MS = 30_000


class OrjsonEncoder(dramatiq.Encoder):
    """Dramatiq's message encoding with orjson: event batches are most of what goes through the queue, and the
    standard library's json was a large share of the API process's time under load."""

    def encode(self, data: Any) -> bytes:
        return orjson.dumps(data)

    def decode(self, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise dramatiq.errors.DecodeError(f"failed to decode message {data!r}", data, exc) from None


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


def _tuned_middleware(broker: dramatiq.Broker) -> None:
    for middleware in broker.middleware:
        if isinstance(middleware, Retries):
            middleware.max_retries = MAX_RETRIES
            middleware.min_backoff = MIN_BACKOFF_MS
            middleware.max_backoff = MAX_BACKOFF_MS


def redis_namespace(settings: Any) -> str:
    """The prefix of the Dramatiq keys, under the install's namespace so two installs can share one Redis."""
    return f"{settings.redis_namespace}:queue"


def make_broker(settings: Any) -> dramatiq.Broker:
    """A broker for `settings`, with Baton's queues declared. It does not connect yet (see `check_reachable`)."""
    dramatiq.set_encoder(OrjsonEncoder())
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = BatonRedisBroker(
            url=settings.redis_url,
            namespace=redis_namespace(settings),
            heartbeat_timeout=int(settings.queue_worker_heartbeat_timeout * 1000),
            maintenance_chance=MAINTENANCE_CHANCE,
        )
    else:
        broker = StubBroker()
    _tuned_middleware(broker)
    broker.add_middleware(ActorMetrics())
    for queue_name in QUEUES:
        broker.declare_queue(queue_name)
    return broker


def check_reachable(broker: dramatiq.Broker, redis_url: str | None) -> None:
    """Raise SettingsError naming the URL when the broker's Redis does not answer."""
    if not isinstance(broker, RedisBroker):
        return
    try:
        broker.client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        shown = redis.connection.parse_url(redis_url or "")
        where = f"{shown.get('host', '?')}:{shown.get('port', 6379)}"
        raise SettingsError(f"Cannot reach Redis at {where} (BATON_REDIS_URL): {exc}") from exc

"""The Dramatiq broker: Redis when `BATON_REDIS_URL` is set, Dramatiq's in-memory broker otherwise."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
import orjson
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from dramatiq.middleware import Retries

from baton.errors import SettingsError
from baton.queue.doorbell import IDLE_WAIT_MS, DoorbellConsumer, ring
from baton.queue.messages import QUEUES

logger = logging.getLogger("baton.queue")

# A consumer whose prefetch is full polls for room with a backoff that grows to this (Dramatiq's worker timeout, 1 s
# by default, would leave a busy queue's next batch waiting up to a second). An idle consumer waits on its queue's
# doorbell instead (`baton.queue.doorbell`). Delay queues (Dramatiq's `<queue>.DQ`, which hold retries for at least
# MIN_BACKOFF_MS) keep Dramatiq's consumer and the worker timeout: a retry needs no bell.
MAX_BUSY_POLL_MS = 100
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
    standard library's json was a fifth of the API process's time under load (benchmarks/events_ingest.py)."""

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

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Any:
        if dq_name(queue_name) == queue_name:
            return super().consume(queue_name, prefetch=prefetch, timeout=timeout)
        return DoorbellConsumer(
            self, queue_name, prefetch, busy_poll_ms=min(timeout, MAX_BUSY_POLL_MS), idle_wait_ms=self.idle_wait_ms
        )

    def enqueue(self, message: dramatiq.Message[Any], *, delay: int | None = None) -> dramatiq.Message[Any]:
        queued = super().enqueue(message, delay=delay)
        if delay is None:
            try:
                ring(self.client, self.namespace, queued.queue_name)
            except redis.RedisError as exc:
                # The message is queued; without the ring it waits for a consumer's next fetch (IDLE_WAIT_MS).
                logger.warning("Queued a %s message but could not ring its queue's bell: %s", message.actor_name, exc)
        return queued


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

"""The Dramatiq broker: Redis when `BATON_REDIS_URL` is set, Dramatiq's in-memory broker otherwise (redis itself is
imported only in the first case, see baton.queue.redis_mode)."""

from __future__ import annotations

from typing import Any

import dramatiq
import orjson
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries

from baton.errors import SettingsError
from baton.queue.actor_metrics import ActorMetrics
from baton.queue.messages import QUEUES
from baton.queue.redis_mode import is_redis_broker

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
        from baton.queue.redis_broker import MAINTENANCE_CHANCE, BatonRedisBroker

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
    if not is_redis_broker(broker):
        return
    import redis

    try:
        broker.client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        shown = redis.connection.parse_url(redis_url or "")
        where = f"{shown.get('host', '?')}:{shown.get('port', 6379)}"
        raise SettingsError(f"Cannot reach Redis at {where} (BATON_REDIS_URL): {exc}") from exc

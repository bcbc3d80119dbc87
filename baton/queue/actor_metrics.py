"""Actor throughput and failures as Prometheus metrics, counted by a Dramatiq middleware on every broker Baton makes.

The metrics belong to no registry: the API server's `/metrics` registers them in its own (embedded mode runs the
actors in that process), and `baton server services` collects its worker processes' values from the files
prometheus_client's multiprocess mode writes (baton.queue.services_metrics).
"""

from __future__ import annotations

import time
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from prometheus_client import Counter, Histogram

ACTOR_MESSAGES = Counter(
    "baton_actor_messages",
    "Actor messages processed, by actor, queue and outcome (succeeded, failed: raised and left to be retried or "
    "dead-lettered, skipped).",
    ["actor", "queue", "outcome"],
    registry=None,
)
ACTOR_DEAD_LETTERS = Counter(
    "baton_actor_dead_letters",
    "Actor messages that failed their last retry and were dead-lettered.",
    ["actor", "queue"],
    registry=None,
)
# Actors range from milliseconds (recording a batch of events) to tens of seconds (a webhook that times out).
ACTOR_DURATION = Histogram(
    "baton_actor_duration_seconds",
    "Seconds an actor took per message.",
    ["actor", "queue"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=None,
)
ACTOR_COLLECTORS = (ACTOR_MESSAGES, ACTOR_DEAD_LETTERS, ACTOR_DURATION)


class ActorMetrics(Middleware):  # type: ignore[misc]
    """Counts each message an actor processed, how it ended and how long it took."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        started = self._started.pop(message.message_id, None)
        if started is not None:
            ACTOR_DURATION.labels(message.actor_name, message.queue_name).observe(time.perf_counter() - started)
        outcome = "succeeded" if exception is None else "failed"
        ACTOR_MESSAGES.labels(message.actor_name, message.queue_name, outcome).inc()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started.pop(message.message_id, None)
        ACTOR_MESSAGES.labels(message.actor_name, message.queue_name, "skipped").inc()

    def after_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        ACTOR_DEAD_LETTERS.labels(message.actor_name, message.queue_name).inc()

"""The cluster-wide gauges of `/metrics`: runs by state, late runs, workers and their heartbeats, concurrency slots,
failed notifications and automation actions (from the database), and the depth and age of each queue (from the
broker). They describe the whole installation, whichever API process is scraped.

Reading them costs a few grouped queries and a Redis round trip, so a scrape reuses the figures read less than
`cache_seconds` ago; Prometheus' collectors are synchronous, so the `/metrics` handler refreshes the figures
(`ClusterMetrics.refresh`, async) before the registry collects them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dramatiq
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from baton.queue.depth import QueueDepth, read_queue_depths
from baton.queue.redis_mode import redis_errors
from baton.server.database.engine import Database
from baton.server.models import metrics as model
from baton.states import StateType

logger = logging.getLogger("baton.metrics")

NOTIFICATION_STATUSES = ("PENDING", "RETRYING", "SENT", "FAILED")
ACTION_RUN_STATUSES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED")
# A Redis that does not answer within this many seconds leaves the queue gauges out of the scrape.
QUEUE_READ_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class ClusterFigures:
    runs_by_state: dict[str, int]
    late_runs: int
    workers: list[model.WorkerHeartbeat]
    slots: list[model.ConcurrencySlots]
    deliveries_by_status: dict[str, int]
    action_runs_by_status: dict[str, int]
    #: None: the broker's Redis did not answer.
    queues: list[QueueDepth] | None


async def read_cluster_figures(database: Database, broker: dramatiq.Broker | None) -> ClusterFigures:
    """The figures as they are now (one read transaction, then the broker)."""
    async with database.read() as connection:
        runs_by_state = await model.count_flow_runs_by_state(connection)
        late_runs = await model.count_late_flow_runs(connection)
        workers = await model.read_worker_heartbeats(connection)
        slots = await model.read_concurrency_slots(connection)
        deliveries = await model.count_notification_deliveries_by_status(connection)
        action_runs = await model.count_automation_action_runs_by_status(connection)
    return ClusterFigures(runs_by_state, late_runs, workers, slots, deliveries, action_runs, await _read_queues(broker))


async def _read_queues(broker: dramatiq.Broker | None) -> list[QueueDepth] | None:
    if broker is None:
        return []
    try:
        return await asyncio.wait_for(asyncio.to_thread(read_queue_depths, broker), QUEUE_READ_TIMEOUT_SECONDS)
    except redis_errors(OSError, TimeoutError) as exc:
        logger.warning("Could not read the queues' depth for /metrics: %s", exc)
        return None


class ClusterMetrics(Collector):
    """The cluster-wide gauges, from figures at most `cache_seconds` old."""

    def __init__(self, database: Database, broker: dramatiq.Broker | None, cache_seconds: float) -> None:
        self.database = database
        self.broker = broker
        self.cache_seconds = cache_seconds
        self._figures: ClusterFigures | None = None
        self._read_at = float("-inf")
        self._reading = asyncio.Lock()

    async def refresh(self) -> None:
        """Read the figures again unless they are recent; concurrent scrapes share one read."""
        async with self._reading:
            if time.monotonic() - self._read_at < self.cache_seconds:
                return
            self._figures = await read_cluster_figures(self.database, self.broker)
            self._read_at = time.monotonic()

    def collect(self) -> Iterator[Metric]:
        figures = self._figures
        if figures is None:
            return
        yield _gauge(
            "baton_flow_runs",
            "Flow runs by state type.",
            ["state"],
            {(state.value,): figures.runs_by_state.get(state.value, 0) for state in StateType},
        )
        yield GaugeMetricFamily(
            "baton_flow_runs_late", "Flow runs in the Late state (scheduled, not started in time).", figures.late_runs
        )
        yield from _worker_gauges(figures.workers)
        yield from _slot_gauges(figures.slots)
        yield _gauge(
            "baton_notification_deliveries",
            "Notification deliveries by status; FAILED ones were given up after their last attempt.",
            ["status"],
            _by_status(figures.deliveries_by_status, NOTIFICATION_STATUSES),
        )
        yield _gauge(
            "baton_automation_action_runs",
            "Automation action runs by status; FAILED ones were given up after their last attempt.",
            ["status"],
            _by_status(figures.action_runs_by_status, ACTION_RUN_STATUSES),
        )
        yield from _queue_gauges(figures.queues)


def _gauge(name: str, documentation: str, labels: list[str], values: dict[tuple[str, ...], float]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for label_values, value in values.items():
        family.add_metric(list(label_values), value)
    return family


def _by_status(counts: dict[str, int], known: tuple[str, ...]) -> dict[tuple[str, ...], float]:
    """Every known status (0 when none has it) and any other found, so a series never vanishes when it drops to 0."""
    return {(status,): counts.get(status, 0) for status in (*known, *sorted(set(counts) - set(known)))}


def _worker_gauges(workers: list[model.WorkerHeartbeat]) -> Iterator[Metric]:
    by_status: dict[tuple[str, ...], float] = {}
    heartbeats: dict[tuple[str, ...], float] = {}
    for worker in workers:
        key = (worker.work_pool, worker.status)
        by_status[key] = by_status.get(key, 0) + 1
        if worker.last_heartbeat_time is not None:
            heartbeats[(worker.work_pool, worker.worker)] = worker.last_heartbeat_time.timestamp()
    yield _gauge("baton_workers", "Workers by work pool and status.", ["work_pool", "status"], by_status)
    yield _gauge(
        "baton_worker_last_heartbeat_timestamp_seconds",
        "When each worker last sent a heartbeat (Unix time).",
        ["work_pool", "worker"],
        heartbeats,
    )


def _slot_gauges(slots: list[model.ConcurrencySlots]) -> Iterator[Metric]:
    active = [slot for slot in slots if slot.active]
    yield _gauge(
        "baton_concurrency_slots_in_use",
        "Slots taken of each active global concurrency limit (tag limits included).",
        ["limit"],
        {(slot.name,): slot.active_slots for slot in active},
    )
    yield _gauge(
        "baton_concurrency_slots_limit",
        "The number of slots of each active global concurrency limit.",
        ["limit"],
        {(slot.name,): slot.limit for slot in active},
    )


def _queue_gauges(queues: list[QueueDepth] | None) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "baton_queue_up", "1 when the queue's broker answered this scrape, 0 when it did not.", int(queues is not None)
    )
    depths: list[Any] = queues or []
    for name, documentation, field in (
        ("baton_queue_messages", "Messages waiting on each queue for an actor.", "waiting"),
        ("baton_queue_oldest_message_age_seconds", "Age of the oldest waiting message.", "oldest_age_seconds"),
        ("baton_queue_delayed_messages", "Messages held for a later time (retries with backoff).", "delayed"),
        ("baton_queue_dead_letter_messages", "Messages dead-lettered after their last retry.", "dead_lettered"),
    ):
        yield _gauge(name, documentation, ["queue"], {(depth.queue,): getattr(depth, field) for depth in depths})

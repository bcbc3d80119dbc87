"""What `/metrics` answers: this process's requests, actors (embedded mode), database pool, CPU and memory, and the
cluster-wide gauges, in Prometheus' text format."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from baton.queue.actor_metrics import ACTOR_COLLECTORS
from baton.server.database.engine import Database
from baton.server.metrics.cluster import ClusterMetrics
from baton.server.metrics.requests import REQUEST_COLLECTORS


class DatabasePoolMetrics(Collector):
    """This process's database connection pool, read at each scrape."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[Metric]:
        usage = self.database.pool_usage()
        yield GaugeMetricFamily("baton_database_pool_size", "Connections the pool keeps open.", usage.size)
        yield GaugeMetricFamily(
            "baton_database_pool_checked_out", "Pooled connections in use right now.", usage.checked_out
        )
        yield GaugeMetricFamily(
            "baton_database_pool_overflow", "Connections open beyond the pool's size right now.", usage.overflow
        )


class ServerMetrics:
    """The registry of one server process's `/metrics`."""

    def __init__(self, database: Database, broker: dramatiq.Broker | None, cache_seconds: float) -> None:
        self.cluster = ClusterMetrics(database, broker, cache_seconds)
        self.registry = CollectorRegistry()
        for collector in (
            *REQUEST_COLLECTORS,
            *ACTOR_COLLECTORS,
            DatabasePoolMetrics(database),
            self.cluster,
            PROCESS_COLLECTOR,
            PLATFORM_COLLECTOR,
            GC_COLLECTOR,
        ):
            self.registry.register(collector)

    async def render(self) -> bytes:
        """The metrics in Prometheus' text format (the cluster-wide figures refreshed first when they are stale)."""
        await self.cluster.refresh()
        return generate_latest(self.registry)

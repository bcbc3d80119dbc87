"""`/metrics`: Prometheus' text format (served at the top level, where Prometheus looks by default)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST

from baton.server.api.base import ApiHandler


class MetricsHandler(ApiHandler):
    permission = "metrics:read"

    async def get(self) -> None:
        body = await self.context.metrics.render()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)


routes = [(r"/metrics/?", MetricsHandler)]

"""The websocket `/logs/out`: every new log line matching a filter, as it is written, from any API process.

The conversation follows Prefect's server, which the official client (`PrefectLogsSubscriber`, behind
`prefect flow-run watch` and `prefect deployment run --watch`) expects; the handshake and close codes are those of
every subscription socket (see `prefect_sockets`):

1. The `prefect` auth handshake.
2. The client sends `{"type": "filter", "filter": <LogFilter>}`; an invalid filter closes the socket with 1002.
3. The server sends `{"type": "log", "log": ...}` (a log line as `/logs/filter` returns it) for each matching line
   written from then on. There is no backfill, as in Prefect: the stream is live only.

A line is sent when `/logs/filter` with the same filter would return it (level, timestamp, flow_run_id, task_run_id,
text and operator all count; Prefect's stream ignores text and operator).
"""

from __future__ import annotations

from typing import Any

from baton.server.api.prefect_sockets import SubscriptionSocket
from baton.server.schemas.filters import LogFilter


class LogsOutHandler(SubscriptionSocket):
    """One subscriber of the live log stream."""

    permission = "log:read"

    kind = "log"

    def parse_filter(self, data: dict[str, Any]) -> LogFilter:
        return LogFilter.model_validate(data.get("filter"))

    async def stream(self, spec: LogFilter, data: dict[str, Any]) -> None:
        async with self.context.log_stream.subscribe(spec) as subscription:
            while True:
                await self.send(await subscription.get())


routes = [
    (r"/logs/out/?", LogsOutHandler),
]

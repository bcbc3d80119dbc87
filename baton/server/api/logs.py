"""`/logs`: batch creation (what the client's log handler sends) and filtering."""

from __future__ import annotations

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.runs import logs
from baton.server.schemas.actions import LogBatch, LogCreate
from baton.server.schemas.core import Log
from baton.server.schemas.requests import LogFilterRequest


class LogsHandler(ApiHandler):
    permission = "log:write"

    @endpoint(
        "Store a batch of log lines; a message over the size limit is cut and marked as truncated",
        body=list[LogCreate],
        status=201,
    )
    async def post(self) -> None:
        batch = self.parse_body(LogBatch)
        async with self.database.write() as connection:
            await logs.create_logs(connection, batch.root, self.context.settings.logs_max_message_bytes)
        self.write_json(None, status=201)  # Prefect answers `null`, and clients parse it


class LogFilterHandler(ApiHandler):
    permission = "log:read"

    @endpoint(
        "Log lines matching a filter, oldest first unless sorted otherwise",
        body=LogFilterRequest,
        response=list[Log],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(LogFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await logs.filter_logs(connection, request, limit, request.offset)
        self.write_json(rows)


routes = [
    (r"/logs/?", LogsHandler),
    (r"/logs/filter/?", LogFilterHandler),
]

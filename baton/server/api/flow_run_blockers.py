"""`GET /flow_runs/{id}/blockers`: why a flow run is not starting (Baton's own; Prefect has no such route)."""

from __future__ import annotations

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.runs.blockers import read_flow_run_blockers
from baton.server.schemas.blockers import FlowRunBlockers


class FlowRunBlockersHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint(
        "What holds a Scheduled (Late, AwaitingConcurrencySlot, ...) run back from starting: not due yet, no work "
        "pool, a paused pool or queue, a queue no worker polls, a full pool, queue, deployment or global concurrency "
        "limit (with the runs holding its slots); an empty list when nothing does or the run is not waiting",
        response=FlowRunBlockers,
    )
    async def get(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        async with self.database.read() as connection:
            blockers = await read_flow_run_blockers(connection, run_id)
        self.write_json(blockers)


routes = [(r"/flow_runs/(?P<flow_run_id>[^/]+)/blockers/?", FlowRunBlockersHandler)]

"""`/flow_runs/{id}/graph-v2` (the run graph Prefect's UI draws) and `/flow_runs/{id}/graph` (the older list of
task runs with their upstream dependencies)."""

from __future__ import annotations

import datetime as dt

import pydantic

from baton.errors import ValidationFailed
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.runs import flow_run_graph
from baton.server.schemas.base import utc
from baton.server.schemas.graph import DependencyResult, Graph

# Prefect's `earliest_possible_datetime()`: without `since`, every node.
EARLIEST = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
_DATETIME = pydantic.TypeAdapter(dt.datetime)


class FlowRunGraphHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint(
        "The run's task runs and subflow runs as graph nodes with their edges, artifacts and the run's states; "
        "`since` keeps only nodes that ended at or after it or have not ended (400 above 10,000 nodes)",
        response=Graph,
        query={"since": "an ISO 8601 time"},
        responses={"400": "The graph has more nodes than the server draws"},
    )
    async def get(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        since = self._since()
        async with self.database.read() as connection:
            graph = await flow_run_graph.read_flow_run_graph(connection, run_id, since)
        self.write_json(graph)

    def _since(self) -> dt.datetime:
        raw = self.get_query_argument("since", None)
        if raw is None:
            return EARLIEST
        try:
            return utc(_DATETIME.validate_python(raw))
        except pydantic.ValidationError as exc:
            message = f"Input should be a valid datetime, got '{raw[:200]}'"
            raise ValidationFailed(
                "Invalid request received.", [{"loc": ["query", "since"], "msg": message, "type": "datetime_parsing"}]
            ) from exc


class FlowRunDependenciesHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint("The run's task runs with their state, timing and upstream task runs", response=list[DependencyResult])
    async def get(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        async with self.database.read() as connection:
            dependencies = await flow_run_graph.read_task_run_dependencies(connection, run_id)
        self.write_json(dependencies)


routes = [
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/graph-v2/?", FlowRunGraphHandler),
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/graph/?", FlowRunDependenciesHandler),
]

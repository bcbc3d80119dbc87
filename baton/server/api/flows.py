"""`/flows`: create (upsert by name), read by id or name, update, delete, filter, count, paginate."""

from __future__ import annotations

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.listing import paginated
from baton.server.api.openapi import endpoint
from baton.server.models.events.flow_run_events import flow_created_event
from baton.server.models.runs import flows
from baton.server.schemas.actions import FlowCreate, FlowUpdate
from baton.server.schemas.bulk import BulkDeleteResponse, FlowBulkDeleteRequest
from baton.server.schemas.core import Flow
from baton.server.schemas.requests import FlowFilterRequest, FlowPaginateRequest


class FlowsHandler(ApiHandler):
    permission = "flow:write"

    @endpoint(
        "Create a flow, or return the flow of that name (200) if it exists",
        body=FlowCreate,
        response=Flow,
        status=201,
        upsert=True,
    )
    async def post(self) -> None:
        flow = self.parse_body(FlowCreate)
        async with self.database.write() as connection:
            row, created = await flows.create_flow(connection, flow)
        if created:
            await self.context.publish_events([flow_created_event(row)])
        self.write_json(row, status=201 if created else 200)


class FlowHandler(ApiHandler):
    permission = {"GET": "flow:read", "PATCH": "flow:write", "DELETE": "flow:write"}

    @endpoint("Read a flow", response=Flow)
    async def get(self, flow_id: str) -> None:
        async with self.database.read() as connection:
            row = await flows.read_flow(connection, self.path_uuid(flow_id))
        if row is None:
            raise ObjectNotFound(f"Flow {flow_id} does not exist.")
        self.write_json(row)

    @endpoint("Update a flow's tags", body=FlowUpdate, status=204)
    async def patch(self, flow_id: str) -> None:
        update = self.parse_body(FlowUpdate)
        async with self.database.write() as connection:
            found = await flows.update_flow(connection, self.path_uuid(flow_id), update)
        if not found:
            raise ObjectNotFound(f"Flow {flow_id} does not exist.")
        self.write_no_content()

    @endpoint("Delete a flow with its runs", status=204)
    async def delete(self, flow_id: str) -> None:
        async with self.database.write() as connection:
            found = await flows.delete_flow(connection, self.path_uuid(flow_id))
        if not found:
            raise ObjectNotFound(f"Flow {flow_id} does not exist.")
        self.write_no_content()


class FlowByNameHandler(ApiHandler):
    permission = "flow:read"

    @endpoint("Read a flow by its name", response=Flow)
    async def get(self, name: str) -> None:
        async with self.database.read() as connection:
            row = await flows.read_flow_by_name(connection, name)
        if row is None:
            raise ObjectNotFound(f"No flow is named {name!r}.")
        self.write_json(row)


class FlowFilterHandler(ApiHandler):
    permission = "flow:read"

    @endpoint("Flows matching a filter", body=FlowFilterRequest, response=list[Flow], optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(FlowFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await flows.filter_flows(connection, request, request.sort, limit, request.offset)
        self.write_json(rows)


class FlowCountHandler(ApiHandler):
    permission = "flow:read"

    @endpoint("How many flows match a filter", body=FlowFilterRequest, response=int, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(FlowFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await flows.count_flows_matching(connection, request)
        self.write_json(count)


class FlowPaginateHandler(ApiHandler):
    permission = "flow:read"

    @endpoint("One page of flows matching a filter, with the total count", body=FlowPaginateRequest, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(FlowPaginateRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows, count = await flows.paginate_flows(connection, request, limit)
        self.write_json(paginated(rows, count, limit, request.page))


class FlowBulkDeleteHandler(ApiHandler):
    permission = "flow:write"

    @endpoint(
        "Delete up to `limit` (at most 50) flows matching a filter, with their deployments and runs",
        body=FlowBulkDeleteRequest,
        response=BulkDeleteResponse,
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(FlowBulkDeleteRequest, default_empty=True)
        async with self.database.write() as connection:
            deleted = await flows.delete_flows(connection, request.flows, request.limit)
        self.write_json({"deleted": deleted})


routes = [
    (r"/flows/?", FlowsHandler),
    (r"/flows/filter/?", FlowFilterHandler),
    (r"/flows/count/?", FlowCountHandler),
    (r"/flows/paginate/?", FlowPaginateHandler),
    (r"/flows/bulk_delete/?", FlowBulkDeleteHandler),
    (r"/flows/name/(?P<name>[^/]+)/?", FlowByNameHandler),
    (r"/flows/(?P<flow_id>[^/]+)/?", FlowHandler),
]

"""`/flow_runs/{id}/input`: key/value inputs of a flow run (what `pause_flow_run(wait_for_input=...)` exchanges)."""

from __future__ import annotations

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.runs import flow_run_inputs as run_inputs
from baton.server.schemas.actions import FlowRunInputCreate, FlowRunInputFilter


class FlowRunInputsHandler(ApiHandler):
    permission = "flow_run:run"

    @endpoint("Store an input for a flow run (409 if the key is taken)", body=FlowRunInputCreate, status=201)
    async def post(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        body = self.parse_body(FlowRunInputCreate)
        async with self.database.write() as connection:
            await run_inputs.create_run_input(connection, run_id, body.key, body.value, body.sender)
        self.write_no_content(201)


class FlowRunInputFilterHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint("A flow run's inputs whose keys start with a prefix, oldest first", body=FlowRunInputFilter)
    async def post(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        body = self.parse_body(FlowRunInputFilter)
        async with self.database.read() as connection:
            rows = await run_inputs.read_run_inputs(connection, run_id, body.prefix, body.limit, body.exclude_keys)
        self.write_json(rows)


class FlowRunInputHandler(ApiHandler):
    permission = {"GET": "flow_run:read", "DELETE": "flow_run:run"}

    @endpoint("Read one input's value (as text)")
    async def get(self, flow_run_id: str, key: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        async with self.database.read() as connection:
            row = await run_inputs.read_run_input(connection, run_id, key)
        if row is None:
            raise ObjectNotFound(f"Flow run {flow_run_id} has no input with key {key!r}.")
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(row["value"])

    @endpoint("Delete one input", status=204)
    async def delete(self, flow_run_id: str, key: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        async with self.database.write() as connection:
            found = await run_inputs.delete_run_input(connection, run_id, key)
        if not found:
            raise ObjectNotFound(f"Flow run {flow_run_id} has no input with key {key!r}.")
        self.write_no_content()


routes = [
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/input/?", FlowRunInputsHandler),
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/input/filter/?", FlowRunInputFilterHandler),
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/input/(?P<key>[^/]+)/?", FlowRunInputHandler),
]

"""`/flow_runs` and `/flow_run_states`: runs of flows, their states and the orchestration of state changes."""

from __future__ import annotations

import csv
import io
import uuid

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler, attachment_disposition
from baton.server.api.bulk_runs import bulk_run_handlers
from baton.server.api.listing import paginated
from baton.server.api.openapi import endpoint
from baton.server.models.runs import bulk, flow_runs, logs
from baton.server.models.runs import flow_run_inputs as run_inputs
from baton.server.models.runs.states import run_as_written, set_flow_run_state
from baton.server.orchestration.context import TransitionOutcome
from baton.server.schemas.actions import FlowRunCreate, FlowRunUpdate, LabelsUpdate
from baton.server.schemas.bulk import FLOW_RUN_BULK_BODIES, BulkSetStateRequest
from baton.server.schemas.core import FlowRun, HistoryInterval
from baton.server.schemas.requests import (
    FlowRunFilterRequest,
    FlowRunHistoryRequest,
    FlowRunPaginateRequest,
    RunFilterSet,
)
from baton.server.schemas.responses import flow_run_response, state_response
from baton.server.schemas.states import OrchestrationResult, ResumeFlowRunRequest, SetStateRequest, State, StateCreate
from baton.states import StateType


class FlowRunsHandler(ApiHandler):
    permission = "flow_run:write"

    @endpoint(
        "Create a flow run (Pending unless a state is given); an idempotency key already used returns that run (200)",
        body=FlowRunCreate,
        response=FlowRun,
        status=201,
        upsert=True,
    )
    async def post(self) -> None:
        run = self.parse_body(FlowRunCreate)
        async with self.database.write() as connection:
            row, created = await flow_runs.create_flow_run(connection, run)
            if created:
                initial = run.state or StateCreate(type=StateType.PENDING)
                outcome = await set_flow_run_state(connection, row["id"], initial, force=True, row=row)
                if row["work_queue_name"] is None:
                    row = run_as_written(row, outcome)
                else:  # the work pool comes from a join
                    row = await flow_runs.read_flow_run_or_404(connection, row["id"])
        if created:
            self.context.flow_run_state_changed(row["id"], outcome)
        self.write_json(flow_run_response(row), status=201 if created else 200)


class FlowRunHandler(ApiHandler):
    permission = {"GET": "flow_run:read", "PATCH": "flow_run:write", "DELETE": "flow_run:write"}

    @endpoint("Read a flow run with its current state", response=FlowRun)
    async def get(self, flow_run_id: str) -> None:
        async with self.database.read() as connection:
            row = await flow_runs.read_flow_run_or_404(connection, self.path_uuid(flow_run_id))
        self.write_json(flow_run_response(row))

    @endpoint(
        "Update a flow run's name, version, parameters, policy, tags or infrastructure pid",
        body=FlowRunUpdate,
        status=204,
    )
    async def patch(self, flow_run_id: str) -> None:
        update = self.parse_body(FlowRunUpdate)
        async with self.database.write() as connection:
            found = await flow_runs.update_flow_run(connection, self.path_uuid(flow_run_id), update)
        if not found:
            raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
        self.write_no_content()

    @endpoint("Delete a flow run with its states, task runs and logs", status=204)
    async def delete(self, flow_run_id: str) -> None:
        async with self.database.write() as connection:
            found = await flow_runs.delete_flow_run(connection, self.path_uuid(flow_run_id))
        if not found:
            raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
        self.write_no_content()


class FlowRunLabelsHandler(ApiHandler):
    permission = "flow_run:write"

    @endpoint("Merge labels into a flow run's labels", body=LabelsUpdate, status=204)
    async def patch(self, flow_run_id: str) -> None:
        labels = self.parse_body(LabelsUpdate)
        async with self.database.write() as connection:
            found = await flow_runs.update_flow_run_labels(connection, self.path_uuid(flow_run_id), labels.root)
        if not found:
            raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
        self.write_no_content()


class FlowRunSetStateHandler(ApiHandler):
    permission = "flow_run:run"

    @endpoint(
        "Propose a new state; the orchestration rules accept, reject, delay or abort it (201 when a state was written)",
        body=SetStateRequest,
        response=OrchestrationResult,
        status=201,
    )
    async def post(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        request = self.parse_body(SetStateRequest)
        await self.context.wait_for_actors()
        outcome = await self.database.run_write(
            lambda connection: set_flow_run_state(connection, run_id, request.state, force=request.force)
        )
        self.context.flow_run_state_changed(run_id, outcome)
        self.write_json(outcome.result_body(), status=outcome.status_code)


class FlowRunResumeHandler(ApiHandler):
    permission = "flow_run:run"

    @endpoint(
        "Resume a paused flow run, with input when the pause asked for it",
        body=ResumeFlowRunRequest,
        response=OrchestrationResult,
        optional_body=True,
    )
    async def post(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        request = self.parse_body(ResumeFlowRunRequest, default_empty=True)
        async with self.database.write() as connection:
            resumed = await run_inputs.resume_flow_run(connection, run_id, request.run_input)
        if resumed.outcome is not None:
            self.context.flow_run_state_changed(run_id, resumed.outcome)
        self.write_json(resumed.body, status=resumed.status_code)


class FlowRunFilterHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint("Flow runs matching a filter", body=FlowRunFilterRequest, response=list[FlowRun], optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(FlowRunFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await flow_runs.filter_flow_runs(connection, request, request.sort, limit, request.offset)
        self.write_json([flow_run_response(row) for row in rows])


class FlowRunCountHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint("How many flow runs match a filter", body=FlowRunFilterRequest, response=int, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(FlowRunFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await flow_runs.count_flow_runs_matching(connection, request)
        self.write_json(count)


class FlowRunPaginateHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint(
        "One page of flow runs matching a filter, with the total count", body=FlowRunPaginateRequest, optional_body=True
    )
    async def post(self) -> None:
        request = self.parse_body(FlowRunPaginateRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows, count = await flow_runs.paginate_flow_runs(connection, request, limit)
        self.write_json(paginated([flow_run_response(row) for row in rows], count, limit, request.page))


class FlowRunHistoryHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint(
        "Counts of flow runs per state in each time bucket (the dashboard chart)",
        body=FlowRunHistoryRequest,
        response=list[HistoryInterval],
    )
    async def post(self) -> None:
        request = self.parse_body(FlowRunHistoryRequest)
        async with self.database.read() as connection:
            buckets = await flow_runs.read_flow_run_history(connection, request)
        self.write_json(buckets)


class FlowRunLatenessHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint(
        "The mean lateness in seconds of the flow runs matching a filter (null when none match)",
        body=RunFilterSet,
        response=float | None,
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(RunFilterSet, default_empty=True)
        async with self.database.read() as connection:
            lateness = await flow_runs.read_average_lateness(connection, request)
        self.write_json(lateness)


async def _propose_flow_run_state(
    handler: ApiHandler, run_id: uuid.UUID, request: BulkSetStateRequest
) -> TransitionOutcome:
    await handler.context.wait_for_actors()
    async with handler.database.write() as connection:
        outcome = await set_flow_run_state(connection, run_id, request.state, force=request.force)
    handler.context.flow_run_state_changed(run_id, outcome)
    return outcome


FlowRunBulkDeleteHandler, FlowRunBulkSetStateHandler = bulk_run_handlers(
    bulk.FLOW_RUNS, FLOW_RUN_BULK_BODIES, set_state_permission="flow_run:run", propose=_propose_flow_run_state
)


class FlowRunLogsDownloadHandler(ApiHandler):
    """A run's logs as CSV, streamed page by page so that a run with millions of lines does not fill memory."""

    permission = "log:read"

    @endpoint("Download a flow run's logs as CSV")
    async def get(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id)
        async with self.database.read() as connection:
            row = await flow_runs.read_flow_run_or_404(connection, run_id)
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            self.set_header("Content-Disposition", attachment_disposition(f"{row['name']}-logs.csv"))
            self.write("timestamp,level,flow_run_id,task_run_id,message\r\n")
            async for page in logs.stream_flow_run_logs(connection, run_id):
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for log in page:
                    writer.writerow(
                        [
                            log["timestamp"].isoformat(),
                            log["level"],
                            log["flow_run_id"],
                            log["task_run_id"] or "",
                            log["message"],
                        ]
                    )
                self.write(buffer.getvalue())
                await self.flush()
        self.finish()


class FlowRunStatesHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint("A flow run's state history, oldest first", response=list[State], query={"flow_run_id": "the run"})
    async def get(self) -> None:
        run_id = self.query_uuid("flow_run_id")
        async with self.database.read() as connection:
            rows = await flow_runs.read_flow_run_states(connection, run_id)
        self.write_json([state_response(row) for row in rows])


class FlowRunStateHandler(ApiHandler):
    permission = "flow_run:read"

    @endpoint("Read one state of a flow run's history", response=State)
    async def get(self, state_id: str) -> None:
        async with self.database.read() as connection:
            row = await flow_runs.read_flow_run_state(connection, self.path_uuid(state_id))
        if row is None:
            raise ObjectNotFound(f"Flow run state {state_id} does not exist.")
        self.write_json(state_response(row))


routes = [
    (r"/flow_runs/?", FlowRunsHandler),
    (r"/flow_runs/filter/?", FlowRunFilterHandler),
    (r"/flow_runs/count/?", FlowRunCountHandler),
    (r"/flow_runs/paginate/?", FlowRunPaginateHandler),
    (r"/flow_runs/history/?", FlowRunHistoryHandler),
    (r"/flow_runs/lateness/?", FlowRunLatenessHandler),
    (r"/flow_runs/bulk_delete/?", FlowRunBulkDeleteHandler),
    (r"/flow_runs/bulk_set_state/?", FlowRunBulkSetStateHandler),
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/set_state/?", FlowRunSetStateHandler),
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/resume/?", FlowRunResumeHandler),
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/labels/?", FlowRunLabelsHandler),
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/logs/download/?", FlowRunLogsDownloadHandler),
    (r"/flow_runs/(?P<flow_run_id>[^/]+)/?", FlowRunHandler),
    (r"/flow_run_states/?", FlowRunStatesHandler),
    (r"/flow_run_states/(?P<state_id>[^/]+)/?", FlowRunStateHandler),
]

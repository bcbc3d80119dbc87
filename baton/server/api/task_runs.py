"""`/task_runs` and `/task_run_states`: task runs created over REST, their states and orchestration, and Baton's own
bulk delete and state change of task runs."""

from __future__ import annotations

import uuid

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler, dumps
from baton.server.api.bulk_runs import bulk_run_handlers
from baton.server.api.listing import paginated
from baton.server.api.openapi import endpoint
from baton.server.models.runs import bulk, task_runs
from baton.server.models.runs.states import run_as_written, set_task_run_state
from baton.server.orchestration.context import TransitionOutcome
from baton.server.schemas.actions import TaskRunCreate, TaskRunUpdate
from baton.server.schemas.bulk import TASK_RUN_BULK_BODIES, BulkSetStateRequest
from baton.server.schemas.core import HistoryInterval, TaskRun
from baton.server.schemas.requests import FlowRunHistoryRequest, TaskRunFilterRequest, TaskRunPaginateRequest
from baton.server.schemas.responses import state_response, task_run_response
from baton.server.schemas.states import OrchestrationResult, SetStateRequest, State, StateCreate
from baton.states import StateType


class TaskRunsHandler(ApiHandler):
    permission = "task_run:write"

    @endpoint(
        "Create a task run (Pending unless a state is given); the same flow run, task key and dynamic key return "
        "the existing run (200)",
        body=TaskRunCreate,
        response=TaskRun,
        status=201,
        upsert=True,
    )
    async def post(self) -> None:
        run = self.parse_body(TaskRunCreate)
        async with self.database.write() as connection:
            row, created, parent_flow_run = await task_runs.create_task_run(connection, run)
            if created:
                initial = run.state or StateCreate(type=StateType.PENDING)
                outcome = await set_task_run_state(
                    connection, row["id"], initial, force=True, row=row, parent_flow_run=parent_flow_run
                )
                row = run_as_written(row, outcome)
        body = task_run_response(row)
        if created:
            await self.context.queue_task_run(outcome.task_queue_action, body["task_key"], dumps(body))
        self.write_json(body, status=201 if created else 200)


class TaskRunHandler(ApiHandler):
    permission = {"GET": "task_run:read", "PATCH": "task_run:write", "DELETE": "task_run:write"}

    @endpoint("Read a task run with its current state", response=TaskRun)
    async def get(self, task_run_id: str) -> None:
        async with self.database.read() as connection:
            row = await task_runs.read_task_run_or_404(connection, self.path_uuid(task_run_id))
        self.write_json(task_run_response(row))

    @endpoint("Rename a task run", body=TaskRunUpdate, status=204)
    async def patch(self, task_run_id: str) -> None:
        update = self.parse_body(TaskRunUpdate)
        async with self.database.write() as connection:
            found = await task_runs.update_task_run(connection, self.path_uuid(task_run_id), update)
        if not found:
            raise ObjectNotFound(f"Task run {task_run_id} does not exist.")
        self.write_no_content()

    @endpoint("Delete a task run with its states", status=204)
    async def delete(self, task_run_id: str) -> None:
        async with self.database.write() as connection:
            found = await task_runs.delete_task_run(connection, self.path_uuid(task_run_id))
        if not found:
            raise ObjectNotFound(f"Task run {task_run_id} does not exist.")
        self.write_no_content()


class TaskRunSetStateHandler(ApiHandler):
    permission = "task_run:write"

    @endpoint(
        "Propose a new state for a task run (201 when a state was written)",
        body=SetStateRequest,
        response=OrchestrationResult,
        status=201,
    )
    async def post(self, task_run_id: str) -> None:
        run_id = self.path_uuid(task_run_id)
        request = self.parse_body(SetStateRequest)
        outcome = await propose_task_run_state(self, run_id, request)
        self.write_json(outcome.result_body(), status=outcome.status_code)


async def propose_task_run_state(
    handler: ApiHandler, run_id: uuid.UUID, request: SetStateRequest | BulkSetStateRequest
) -> TransitionOutcome:
    """Propose `request.state` (forced with `request.force`) to the task run in a write transaction of its own; a
    background task run the change makes ready (or sends back) is queued for the task workers."""
    outcome = await handler.database.run_write(
        lambda connection: set_task_run_state(connection, run_id, request.state, force=request.force)
    )
    if outcome.task_queue_action is not None:
        async with handler.database.read() as connection:
            body = task_run_response(await task_runs.read_task_run_or_404(connection, run_id))
        await handler.context.queue_task_run(outcome.task_queue_action, body["task_key"], dumps(body))
    return outcome


TaskRunBulkDeleteHandler, TaskRunBulkSetStateHandler = bulk_run_handlers(
    bulk.TASK_RUNS, TASK_RUN_BULK_BODIES, set_state_permission="task_run:write", propose=propose_task_run_state
)


class TaskRunFilterHandler(ApiHandler):
    permission = "task_run:read"

    @endpoint("Task runs matching a filter", body=TaskRunFilterRequest, response=list[TaskRun], optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(TaskRunFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await task_runs.filter_task_runs(connection, request, request.sort, limit, request.offset)
        self.write_json([task_run_response(row) for row in rows])


class TaskRunCountHandler(ApiHandler):
    permission = "task_run:read"

    @endpoint("How many task runs match a filter", body=TaskRunFilterRequest, response=int, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(TaskRunFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await task_runs.count_task_runs_matching(connection, request)
        self.write_json(count)


class TaskRunPaginateHandler(ApiHandler):
    permission = "task_run:read"

    @endpoint(
        "One page of task runs matching a filter, with the total count", body=TaskRunPaginateRequest, optional_body=True
    )
    async def post(self) -> None:
        request = self.parse_body(TaskRunPaginateRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows, count = await task_runs.paginate_task_runs(connection, request, limit)
        self.write_json(paginated([task_run_response(row) for row in rows], count, limit, request.page))


class TaskRunHistoryHandler(ApiHandler):
    permission = "task_run:read"

    @endpoint(
        "Counts of task runs per state in each time bucket", body=FlowRunHistoryRequest, response=list[HistoryInterval]
    )
    async def post(self) -> None:
        request = self.parse_body(FlowRunHistoryRequest)
        async with self.database.read() as connection:
            buckets = await task_runs.read_task_run_history(connection, request)
        self.write_json(buckets)


class TaskRunStatesHandler(ApiHandler):
    permission = "task_run:read"

    @endpoint("A task run's state history, oldest first", response=list[State], query={"task_run_id": "the run"})
    async def get(self) -> None:
        run_id = self.query_uuid("task_run_id")
        async with self.database.read() as connection:
            rows = await task_runs.read_task_run_states(connection, run_id)
        self.write_json([state_response(row) for row in rows])


class TaskRunStateHandler(ApiHandler):
    permission = "task_run:read"

    @endpoint("Read one state of a task run's history", response=State)
    async def get(self, state_id: str) -> None:
        async with self.database.read() as connection:
            row = await task_runs.read_task_run_state(connection, self.path_uuid(state_id))
        if row is None:
            raise ObjectNotFound(f"Task run state {state_id} does not exist.")
        self.write_json(state_response(row))


routes = [
    (r"/task_runs/?", TaskRunsHandler),
    (r"/task_runs/filter/?", TaskRunFilterHandler),
    (r"/task_runs/count/?", TaskRunCountHandler),
    (r"/task_runs/paginate/?", TaskRunPaginateHandler),
    (r"/task_runs/history/?", TaskRunHistoryHandler),
    (r"/task_runs/bulk_delete/?", TaskRunBulkDeleteHandler),
    (r"/task_runs/bulk_set_state/?", TaskRunBulkSetStateHandler),
    (r"/task_runs/(?P<task_run_id>[^/]+)/set_state/?", TaskRunSetStateHandler),
    (r"/task_runs/(?P<task_run_id>[^/]+)/?", TaskRunHandler),
    (r"/task_run_states/?", TaskRunStatesHandler),
    (r"/task_run_states/(?P<state_id>[^/]+)/?", TaskRunStateHandler),
]

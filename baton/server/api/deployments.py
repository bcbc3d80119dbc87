"""`/deployments`: create (upsert on flow and name), read by id or by flow and deployment name, update, delete,
filter, count, paginate, pause and resume, runs from a deployment, and the scheduled runs a `flow.serve()` polls."""

from __future__ import annotations

import uuid
from dataclasses import replace

from baton.errors import BadRequest, ObjectNotFound
from baton.queue import messages
from baton.server.api.base import ApiHandler
from baton.server.api.listing import paginated
from baton.server.api.openapi import endpoint
from baton.server.database.types import utcnow
from baton.server.models.deployments import deployment_polls, deployment_runs, deployments
from baton.server.models.deployments import scheduling as auto_scheduling
from baton.server.models.deployments.scheduling import SchedulerLimits
from baton.server.schemas.bulk import (
    BULK_CREATE_LIMIT,
    BulkDeleteResponse,
    DeploymentBulkDeleteRequest,
    DeploymentFlowRunBulkCreate,
    FlowRunBulkCreateResponse,
)
from baton.server.schemas.core import FlowRun
from baton.server.schemas.deployments import (
    Deployment,
    DeploymentCreate,
    DeploymentFlowRunCreate,
    DeploymentUpdate,
    ScheduledFlowRunsRequest,
    ScheduleRunsRequest,
)
from baton.server.schemas.requests import DeploymentFilterRequest, DeploymentPaginateRequest
from baton.server.schemas.responses import flow_run_response


class DeploymentApiHandler(ApiHandler):
    async def reschedule(self, deployment_id: uuid.UUID) -> None:
        """Have the scheduler look at the deployment now, not at its next sweep (sent after the commit)."""
        await self.context.send_message(messages.schedule_deployments([str(deployment_id)]))


class DeploymentsHandler(DeploymentApiHandler):
    permission = "deployment:write"

    @endpoint(
        "Create a deployment, or update the one of that flow and name (200); its future auto-scheduled runs are "
        "replaced",
        body=DeploymentCreate,
        response=Deployment,
        status=201,
        upsert=True,
    )
    async def post(self) -> None:
        body = self.parse_body(DeploymentCreate)
        async with self.database.write() as connection:
            deployment_id, created = await deployments.create_deployment(connection, body)
            row = await deployments.read_deployment_or_404(connection, deployment_id)
        await self.reschedule(deployment_id)
        self.write_json(row, status=201 if created else 200)


class DeploymentHandler(DeploymentApiHandler):
    permission = {"GET": "deployment:read", "PATCH": "deployment:write", "DELETE": "deployment:write"}

    @endpoint("Read a deployment", response=Deployment)
    async def get(self, deployment_id: str) -> None:
        async with self.database.read() as connection:
            row = await deployments.read_deployment_or_404(connection, self.path_uuid(deployment_id))
        self.write_json(row)

    @endpoint("Update a deployment; its future auto-scheduled runs are made again", body=DeploymentUpdate, status=204)
    async def patch(self, deployment_id: str) -> None:
        update = self.parse_body(DeploymentUpdate)
        the_id = self.path_uuid(deployment_id)
        async with self.database.write() as connection:
            if update.parameters is not None:
                await deployment_runs.check_updated_parameters(connection, the_id, update)
            found = await deployments.update_deployment(connection, the_id, update)
        if not found:
            raise ObjectNotFound(f"Deployment {deployment_id} does not exist.")
        await self.reschedule(the_id)
        self.write_no_content()

    @endpoint("Delete a deployment with its schedules and the runs that have not started", status=204)
    async def delete(self, deployment_id: str) -> None:
        async with self.database.write() as connection:
            found = await deployments.delete_deployment(connection, self.path_uuid(deployment_id))
        if not found:
            raise ObjectNotFound(f"Deployment {deployment_id} does not exist.")
        self.write_no_content()


class DeploymentByNameHandler(ApiHandler):
    permission = "deployment:read"

    @endpoint("Read a deployment by its flow's name and its own", response=Deployment)
    async def get(self, flow_name: str, deployment_name: str) -> None:
        async with self.database.read() as connection:
            row = await deployments.read_deployment_by_name(connection, flow_name, deployment_name)
        if row is None:
            raise ObjectNotFound(f"No deployment is named {flow_name}/{deployment_name}.")
        self.write_json(row)


class DeploymentFilterHandler(ApiHandler):
    permission = "deployment:read"

    @endpoint(
        "Deployments matching a filter", body=DeploymentFilterRequest, response=list[Deployment], optional_body=True
    )
    async def post(self) -> None:
        request = self.parse_body(DeploymentFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await deployments.filter_deployments(connection, request, request.sort, limit, request.offset)
        self.write_json(rows)


class DeploymentCountHandler(ApiHandler):
    permission = "deployment:read"

    @endpoint("How many deployments match a filter", body=DeploymentFilterRequest, response=int, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(DeploymentFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await deployments.count_deployments_matching(connection, request)
        self.write_json(count)


class DeploymentPaginateHandler(ApiHandler):
    permission = "deployment:read"

    @endpoint(
        "One page of deployments matching a filter, with the total count",
        body=DeploymentPaginateRequest,
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(DeploymentPaginateRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows, count = await deployments.paginate_deployments(connection, request, limit)
        self.write_json(paginated(rows, count, limit, request.page))


class DeploymentPauseHandler(DeploymentApiHandler):
    permission = "deployment:write"

    paused = True

    @endpoint("Pause or resume a deployment's schedules", status=204)
    async def post(self, deployment_id: str) -> None:
        the_id = self.path_uuid(deployment_id)
        async with self.database.write() as connection:
            found = await deployments.set_paused(connection, the_id, self.paused)
        if not found:
            raise ObjectNotFound(f"Deployment {deployment_id} does not exist.")
        if not self.paused:
            await self.reschedule(the_id)
        self.write_no_content()


class DeploymentResumeHandler(DeploymentPauseHandler):
    permission = "deployment:write"

    paused = False


class DeploymentCreateFlowRunHandler(ApiHandler):
    permission = "deployment:run"

    @endpoint(
        "Create a run of the deployment (Scheduled now unless a state is given); parameters are merged over the "
        "deployment's and checked against its schema when it enforces one",
        body=DeploymentFlowRunCreate,
        response=FlowRun,
        status=201,
        upsert=True,
        optional_body=True,
    )
    async def post(self, deployment_id: str) -> None:
        request = self.parse_body(DeploymentFlowRunCreate, default_empty=True)
        async with self.database.write() as connection:
            deployment = await deployments.read_deployment_or_404(connection, self.path_uuid(deployment_id))
            row, outcome = await deployment_runs.create_flow_run_from_deployment(connection, deployment, request)
        if outcome is not None:
            self.context.flow_run_state_changed(row["id"], outcome)
        self.write_json(flow_run_response(row), status=201 if outcome is not None else 200)


class DeploymentBulkCreateFlowRunsHandler(ApiHandler):
    permission = "deployment:run"

    @endpoint(
        "Create up to 100 runs of the deployment in one transaction, each as `create_flow_run` would; a run refused "
        "(bad parameters, say) is a FAILED result with the reason, and the others are created",
        body=DeploymentFlowRunBulkCreate,
        response=FlowRunBulkCreateResponse,
    )
    async def post(self, deployment_id: str) -> None:
        the_id = self.path_uuid(deployment_id)
        requests = self.parse_body(DeploymentFlowRunBulkCreate).root
        if len(requests) > BULK_CREATE_LIMIT:
            raise BadRequest(f"Cannot create more than {BULK_CREATE_LIMIT} flow runs at once.")
        async with self.database.write() as connection:
            deployment = await deployments.read_deployment_or_404(connection, the_id)
            created = await deployment_runs.create_flow_runs_from_deployment(connection, deployment, requests)
        for result, outcome in created:
            if outcome is not None:
                self.context.flow_run_state_changed(result["flow_run_id"], outcome)
        self.write_json({"results": [result for result, _ in created]})


class DeploymentBulkDeleteHandler(ApiHandler):
    permission = "deployment:write"

    @endpoint(
        "Delete up to `limit` (at most 50) deployments matching a filter, as DELETE /deployments/{id} does",
        body=DeploymentBulkDeleteRequest,
        response=BulkDeleteResponse,
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(DeploymentBulkDeleteRequest, default_empty=True)
        async with self.database.write() as connection:
            deleted = await deployments.delete_deployments(connection, request.deployments, request.limit)
        self.write_json({"deleted": deleted})


class ScheduledFlowRunsHandler(ApiHandler):
    permission = "work_pool:poll"

    @endpoint(
        "The deployments' runs waiting in a Scheduled state, soonest first; the deployments are marked polled (READY)",
        body=ScheduledFlowRunsRequest,
        response=list[FlowRun],
    )
    async def post(self) -> None:
        request = self.parse_body(ScheduledFlowRunsRequest)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await deployment_runs.read_scheduled_runs_of_deployments(
                connection, request.deployment_ids, request.scheduled_before, limit
            )
        async with self.database.write() as connection:
            events = await deployment_polls.record_deployment_polls(connection, request.deployment_ids, utcnow())
        await self.context.evaluate_triggers(events)
        self.write_json([flow_run_response(row) for row in rows])


class DeploymentScheduleRunsHandler(ApiHandler):
    permission = "deployment:write"

    @endpoint(
        "Insert the deployment's upcoming scheduled runs now", body=ScheduleRunsRequest, status=204, optional_body=True
    )
    async def post(self, deployment_id: str) -> None:
        request = self.parse_body(ScheduleRunsRequest, default_empty=True)
        the_id = self.path_uuid(deployment_id)
        async with self.database.read() as connection:
            await deployments.read_deployment_or_404(connection, the_id)
        limits = SchedulerLimits.from_settings(self.context.settings)
        start, end = request.start_time, request.end_time
        limits = replace(
            limits,
            min_runs=limits.min_runs if request.min_runs is None else request.min_runs,
            max_runs=limits.max_runs if request.max_runs is None else request.max_runs,
            min_time=limits.min_time if request.min_time is None else request.min_time,
            max_time=limits.max_time if start is None or end is None else end - start,
        )
        await auto_scheduling.schedule_deployments(
            self.database, limits, deployment_ids=[the_id], now=request.start_time
        )
        self.write_no_content()


class WorkQueueCheckHandler(ApiHandler):
    permission = "deployment:read"

    @endpoint("The work queues that would not pick the deployment's runs up (none: Baton has no queue filters)")
    async def get(self, deployment_id: str) -> None:
        async with self.database.read() as connection:
            await deployments.read_deployment_or_404(connection, self.path_uuid(deployment_id))
        self.write_json([])


routes = [
    (r"/deployments/?", DeploymentsHandler),
    (r"/deployments/filter/?", DeploymentFilterHandler),
    (r"/deployments/count/?", DeploymentCountHandler),
    (r"/deployments/paginate/?", DeploymentPaginateHandler),
    (r"/deployments/bulk_delete/?", DeploymentBulkDeleteHandler),
    (r"/deployments/get_scheduled_flow_runs/?", ScheduledFlowRunsHandler),
    (r"/deployments/name/(?P<flow_name>[^/]+)/(?P<deployment_name>[^/]+)/?", DeploymentByNameHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/pause_deployment/?", DeploymentPauseHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/resume_deployment/?", DeploymentResumeHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/create_flow_run/?", DeploymentCreateFlowRunHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/create_flow_run/bulk/?", DeploymentBulkCreateFlowRunsHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/work_queue_check/?", WorkQueueCheckHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/schedule/?", DeploymentScheduleRunsHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/?", DeploymentHandler),
]

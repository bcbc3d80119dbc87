"""`/work_queues`: the id-addressed queue endpoints that older clients and `prefect work-queue` use."""

from __future__ import annotations

import datetime as dt

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.database.types import utcnow
from baton.server.models.work_pools import concurrency_status, scheduled_runs, work_pools, work_queues
from baton.server.schemas.core import FlowRun
from baton.server.schemas.responses import flow_run_response
from baton.server.schemas.work_pools import (
    LegacyWorkQueueFilterRequest,
    WorkQueue,
    WorkQueueConcurrencyStatus,
    WorkQueueConcurrencyStatusRequest,
    WorkQueueCreate,
    WorkQueueHealthPolicy,
    WorkQueueRunsRequest,
    WorkQueueStatusDetail,
    WorkQueueUpdate,
)


class WorkQueuesHandler(ApiHandler):
    permission = "work_pool:write"

    @endpoint(
        "Create a work queue in `default-agent-pool` (created when missing), as `prefect work-queue create` without "
        "a pool does",
        body=WorkQueueCreate,
        response=WorkQueue,
        status=201,
    )
    async def post(self) -> None:
        queue = self.parse_body(WorkQueueCreate)
        async with self.database.write() as connection:
            row = await work_queues.create_work_queue_without_pool(connection, queue)
        self.write_json(work_queues.work_queue_response(row, {}), status=201)


class WorkQueueByIdHandler(ApiHandler):
    permission = {"GET": "work_pool:read", "PATCH": "work_pool:write", "DELETE": "work_pool:write"}

    @endpoint("Read a work queue by id", response=WorkQueue)
    async def get(self, queue_id: str) -> None:
        async with self.database.read() as connection:
            row = await work_queues.read_work_queue_by_id_or_404(connection, self.path_uuid(queue_id))
            (body,) = await work_queues.queue_responses(connection, [row])
        self.write_json(body)

    @endpoint("Update a work queue by id", body=WorkQueueUpdate, status=204)
    async def patch(self, queue_id: str) -> None:
        update = self.parse_body(WorkQueueUpdate)
        async with self.database.write() as connection:
            row = await work_queues.read_work_queue_by_id_or_404(connection, self.path_uuid(queue_id))
            events = await work_queues.update_work_queue(connection, row, update)
        await self.context.evaluate_triggers(events)
        self.write_no_content()

    @endpoint("Delete a work queue by id (not a pool's default queue)", status=204)
    async def delete(self, queue_id: str) -> None:
        async with self.database.write() as connection:
            row = await work_queues.read_work_queue_by_id_or_404(connection, self.path_uuid(queue_id))
            pool = await work_pools.read_work_pool(connection, row["work_pool_id"])
            assert pool is not None
            await work_queues.delete_work_queue(connection, pool, row)
        self.write_no_content()


class WorkQueueByNameHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint(
        "Read a work queue by name, in the pool named by `work_pool_name` (any pool when not given)",
        response=WorkQueue,
        query={"work_pool_name": "the pool"},
    )
    async def get(self, name: str) -> None:
        pool_name = self.get_query_argument("work_pool_name", None)
        async with self.database.read() as connection:
            row = await work_queues.read_work_queue_in_pool_named(connection, name, pool_name)
            if row is None:
                raise ObjectNotFound(f"Work queue {name!r} not found.")
            (body,) = await work_queues.queue_responses(connection, [row])
        self.write_json(body)


class LegacyWorkQueueFilterHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint(
        "Work queues matching a filter", body=LegacyWorkQueueFilterRequest, response=list[WorkQueue], optional_body=True
    )
    async def post(self) -> None:
        request = self.parse_body(LegacyWorkQueueFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            bodies = await work_queues.filter_work_queues(connection, request, limit, request.offset)
        self.write_json(bodies)


class WorkQueueRunsHandler(ApiHandler):
    permission = "work_pool:poll"

    @endpoint(
        "The queue's scheduled runs that may start (an agent's poll); marks the queue polled",
        body=WorkQueueRunsRequest,
        response=list[FlowRun],
        optional_body=True,
    )
    async def post(self, queue_id: str) -> None:
        request = self.parse_body(WorkQueueRunsRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            queue = await work_queues.read_work_queue_by_id_or_404(connection, self.path_uuid(queue_id))
            pool = await work_pools.read_work_pool(connection, queue["work_pool_id"])
            assert pool is not None
            taken = await scheduled_runs.read_scheduled_flow_runs(
                connection,
                pool,
                [queue],
                scheduled_before=request.scheduled_before or utcnow(),
                scheduled_after=None,
                limit=limit,
            )
        async with self.database.write() as connection:
            events = await work_queues.record_polls(connection, [queue["id"]], utcnow())
        await self.context.evaluate_triggers(events)
        self.write_json([flow_run_response(run) for _, run in taken])


class WorkQueueStatusHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint(
        "Whether a work queue is healthy: polled within a minute and no late runs", response=WorkQueueStatusDetail
    )
    async def get(self, queue_id: str) -> None:
        async with self.database.read() as connection:
            queue = await work_queues.read_work_queue_by_id_or_404(connection, self.path_uuid(queue_id))
            late = await work_queues.count_late_runs(connection, queue["id"])
        policy = WorkQueueHealthPolicy()
        last_polled = queue["last_polled"]
        recent = last_polled is not None and utcnow() - last_polled <= dt.timedelta(
            seconds=policy.maximum_seconds_since_last_polled or 0
        )
        healthy = recent and late <= (policy.maximum_late_runs or 0)
        self.write_json(
            WorkQueueStatusDetail(
                healthy=healthy, late_runs_count=late, last_polled=last_polled, health_check_policy=policy
            )
        )


class WorkQueueConcurrencyStatusHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint(
        "A work queue's busy slots and a page of the flow runs holding them (Pending, Running, Cancelling), by id",
        body=WorkQueueConcurrencyStatusRequest,
        response=WorkQueueConcurrencyStatus,
        optional_body=True,
    )
    async def post(self, queue_id: str) -> None:
        request = self.parse_body(WorkQueueConcurrencyStatusRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            queue = await work_queues.read_work_queue_by_id_or_404(connection, self.path_uuid(queue_id))
            status = await concurrency_status.read_work_queue_concurrency_status(
                connection, queue, page=request.page, limit=limit
            )
        self.write_json(status)


routes = [
    (r"/work_queues/?", WorkQueuesHandler),
    (r"/work_queues/filter/?", LegacyWorkQueueFilterHandler),
    (r"/work_queues/name/(?P<name>[^/]+)/?", WorkQueueByNameHandler),
    (r"/work_queues/(?P<queue_id>[^/]+)/get_runs/?", WorkQueueRunsHandler),
    (r"/work_queues/(?P<queue_id>[^/]+)/status/?", WorkQueueStatusHandler),
    (r"/work_queues/(?P<queue_id>[^/]+)/concurrency_status/?", WorkQueueConcurrencyStatusHandler),
    (r"/work_queues/(?P<queue_id>[^/]+)/?", WorkQueueByIdHandler),
]

"""`/work_pools`: pools, the queues under them, and the worker's poll for scheduled runs."""

from __future__ import annotations

from baton.errors import Forbidden
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.database.types import utcnow
from baton.server.models.work_pools import concurrency_status, scheduled_runs, work_pools, work_queues
from baton.server.schemas.responses import flow_run_response
from baton.server.schemas.work_pools import (
    ScheduledFlowRunsRequest,
    WorkerFlowRunResponse,
    WorkPool,
    WorkPoolConcurrencyStatus,
    WorkPoolConcurrencyStatusRequest,
    WorkPoolCreate,
    WorkPoolFilterRequest,
    WorkPoolUpdate,
    WorkQueue,
    WorkQueueCreate,
    WorkQueueFilterRequest,
    WorkQueueUpdate,
)

# Names Prefect keeps for its own managed pools; refused here too, so that a pool works the same on both servers.
RESERVED_PREFIX = "prefect"


class WorkPoolsHandler(ApiHandler):
    permission = "work_pool:write"

    @endpoint(
        "Create a work pool with its default queue",
        body=WorkPoolCreate,
        response=WorkPool,
        status=201,
        responses={"403": "The name is reserved"},
    )
    async def post(self) -> None:
        pool = self.parse_body(WorkPoolCreate)
        if pool.name.lower().startswith(RESERVED_PREFIX):
            raise Forbidden("Work pools starting with 'Prefect' are reserved for internal use.")
        async with self.database.write() as connection:
            row, events = await work_pools.create_work_pool(connection, pool)
        await self.context.evaluate_triggers(events)
        self.write_json(work_pools.work_pool_response(row), status=201)


class WorkPoolHandler(ApiHandler):
    permission = {"GET": "work_pool:read", "PATCH": "work_pool:write", "DELETE": "work_pool:write"}

    @endpoint("Read a work pool by name", response=WorkPool)
    async def get(self, name: str) -> None:
        async with self.database.read() as connection:
            row = await work_pools.read_work_pool_or_404(connection, name)
            (body,) = await work_pools.pool_responses(connection, [row])
        self.write_json(body)

    @endpoint(
        "Update a work pool: pause or resume it, change its limit, template or description",
        body=WorkPoolUpdate,
        status=204,
    )
    async def patch(self, name: str) -> None:
        update = self.parse_body(WorkPoolUpdate)
        async with self.database.write() as connection:
            row = await work_pools.read_work_pool_or_404(connection, name, for_update=True)
            events = await work_pools.update_work_pool(connection, row, update)
        await self.context.evaluate_triggers(events)
        self.write_no_content()

    @endpoint(
        "Delete a work pool with its queues and workers", status=204, responses={"403": "The work pool is reserved"}
    )
    async def delete(self, name: str) -> None:
        if name.lower().startswith(RESERVED_PREFIX):
            raise Forbidden("Work pools starting with 'Prefect' are reserved for internal use and can not be deleted.")
        async with self.database.write() as connection:
            row = await work_pools.read_work_pool_or_404(connection, name, for_update=True)
            await work_pools.delete_work_pool(connection, row["id"])
        self.write_no_content()


class WorkPoolFilterHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint(
        "Work pools matching a filter, by name", body=WorkPoolFilterRequest, response=list[WorkPool], optional_body=True
    )
    async def post(self) -> None:
        request = self.parse_body(WorkPoolFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            bodies = await work_pools.filter_work_pools(connection, request, limit, request.offset)
        self.write_json(bodies)


class WorkPoolCountHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint("How many work pools match a filter", body=WorkPoolFilterRequest, response=int, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(WorkPoolFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await work_pools.count_work_pools_matching(connection, request)
        self.write_json(count)


class ScheduledFlowRunsHandler(ApiHandler):
    permission = "work_pool:poll"

    @endpoint(
        "A worker's poll: the pool's scheduled runs that may start, by queue priority and within concurrency "
        "limits; marks the polled queues and their deployments READY",
        body=ScheduledFlowRunsRequest,
        response=list[WorkerFlowRunResponse],
        optional_body=True,
    )
    async def post(self, name: str) -> None:
        request = self.parse_body(ScheduledFlowRunsRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name)
            if request.work_queue_names:
                queues = [
                    await work_queues.read_work_queue_or_404(connection, pool, queue_name)
                    for queue_name in dict.fromkeys(request.work_queue_names)
                ]
            else:
                queues = await work_queues.read_work_queues_of_pool(connection, pool["id"])
            taken = await scheduled_runs.read_scheduled_flow_runs(
                connection,
                pool,
                queues,
                scheduled_before=request.scheduled_before,
                scheduled_after=request.scheduled_after,
                limit=limit,
            )
        async with self.database.write() as connection:
            events = await work_queues.record_polls(connection, [queue["id"] for queue in queues], utcnow())
        await self.context.evaluate_triggers(events)
        self.write_json(
            [
                {"work_pool_id": pool["id"], "work_queue_id": queue["id"], "flow_run": flow_run_response(run)}
                for queue, run in taken
            ]
        )


class WorkPoolConcurrencyStatusHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint(
        "A work pool's busy slots and a page of its queues (highest priority first), each with its busy slots and "
        "up to `flow_run_limit` of the flow runs holding them",
        body=WorkPoolConcurrencyStatusRequest,
        response=WorkPoolConcurrencyStatus,
        optional_body=True,
    )
    async def post(self, name: str) -> None:
        request = self.parse_body(WorkPoolConcurrencyStatusRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name)
            status = await concurrency_status.read_work_pool_concurrency_status(
                connection, pool, page=request.page, limit=limit, flow_run_limit=request.flow_run_limit
            )
        self.write_json(status)


class WorkQueuesHandler(ApiHandler):
    permission = "work_pool:write"

    @endpoint("Create a queue in a work pool", body=WorkQueueCreate, response=WorkQueue, status=201)
    async def post(self, name: str) -> None:
        queue = self.parse_body(WorkQueueCreate)
        async with self.database.write() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name, for_update=True)
            row = await work_queues.create_work_queue(connection, pool["id"], queue)
        self.write_json(work_queues.work_queue_response(row, {}), status=201)


class WorkQueueFilterHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint(
        "The queues of a work pool matching a filter, by priority",
        body=WorkQueueFilterRequest,
        response=list[WorkQueue],
        optional_body=True,
    )
    async def post(self, name: str) -> None:
        request = self.parse_body(WorkQueueFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name)
            bodies = await work_queues.filter_work_queues_of_pool(
                connection, pool["id"], request, limit, request.offset
            )
        self.write_json(bodies)


class WorkQueueHandler(ApiHandler):
    permission = {"GET": "work_pool:read", "PATCH": "work_pool:write", "DELETE": "work_pool:write"}

    @endpoint("Read a queue of a work pool", response=WorkQueue)
    async def get(self, name: str, queue_name: str) -> None:
        async with self.database.read() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name)
            row = await work_queues.read_work_queue_or_404(connection, pool, queue_name)
            (body,) = await work_queues.queue_responses(connection, [row])
        self.write_json(body)

    @endpoint(
        "Update a queue: pause or resume it, rename it, change its priority or limit", body=WorkQueueUpdate, status=204
    )
    async def patch(self, name: str, queue_name: str) -> None:
        update = self.parse_body(WorkQueueUpdate)
        async with self.database.write() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name, for_update=True)
            row = await work_queues.read_work_queue_or_404(connection, pool, queue_name)
            events = await work_queues.update_work_queue(connection, row, update)
        await self.context.evaluate_triggers(events)
        self.write_no_content()

    @endpoint("Delete a queue (not the pool's default one); its runs move to the default queue", status=204)
    async def delete(self, name: str, queue_name: str) -> None:
        async with self.database.write() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name, for_update=True)
            row = await work_queues.read_work_queue_or_404(connection, pool, queue_name)
            await work_queues.delete_work_queue(connection, pool, row)
        self.write_no_content()


routes = [
    (r"/work_pools/?", WorkPoolsHandler),
    (r"/work_pools/filter/?", WorkPoolFilterHandler),
    (r"/work_pools/count/?", WorkPoolCountHandler),
    (r"/work_pools/(?P<name>[^/]+)/get_scheduled_flow_runs/?", ScheduledFlowRunsHandler),
    (r"/work_pools/(?P<name>[^/]+)/concurrency_status/?", WorkPoolConcurrencyStatusHandler),
    (r"/work_pools/(?P<name>[^/]+)/queues/?", WorkQueuesHandler),
    (r"/work_pools/(?P<name>[^/]+)/queues/filter/?", WorkQueueFilterHandler),
    (r"/work_pools/(?P<name>[^/]+)/queues/(?P<queue_name>[^/]+)/?", WorkQueueHandler),
    (r"/work_pools/(?P<name>[^/]+)/?", WorkPoolHandler),
]

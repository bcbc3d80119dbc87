"""`/work_pools/{name}/workers`: worker heartbeats, the pool's workers, and removing one."""

from __future__ import annotations

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.work_pools import work_pools, workers
from baton.server.schemas.work_pools import Worker, WorkerFilterRequest, WorkerHeartbeat


class WorkerHeartbeatHandler(ApiHandler):
    permission = "work_pool:poll"

    @endpoint(
        "A worker says it is alive: the worker is recorded ONLINE (200 with its id when `return_id`)",
        body=WorkerHeartbeat,
        status=204,
    )
    async def post(self, name: str) -> None:
        heartbeat = self.parse_body(WorkerHeartbeat)
        async with self.database.write() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name)
            worker_id, events = await workers.record_heartbeat(
                connection, pool, heartbeat.name, heartbeat.heartbeat_interval_seconds
            )
        await self.context.evaluate_triggers(events)
        if heartbeat.return_id:
            self.write_json(str(worker_id))
        else:
            self.write_no_content()


class WorkerFilterHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint(
        "The workers of a pool, the most recent heartbeat first",
        body=WorkerFilterRequest,
        response=list[Worker],
        optional_body=True,
    )
    async def post(self, name: str) -> None:
        request = self.parse_body(WorkerFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name)
            rows = await workers.filter_workers(connection, pool["id"], request.workers, limit, request.offset)
        self.write_json(rows)


class WorkerHandler(ApiHandler):
    permission = {"DELETE": "work_pool:write"}

    @endpoint("Forget a worker of a pool", status=204)
    async def delete(self, name: str, worker_name: str) -> None:
        async with self.database.write() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name)
            deleted = await workers.delete_worker(connection, pool["id"], worker_name)
        if not deleted:
            raise ObjectNotFound(f"Work pool {name!r} has no worker named {worker_name!r}.")
        self.write_no_content()


routes = [
    (r"/work_pools/(?P<name>[^/]+)/workers/heartbeat/?", WorkerHeartbeatHandler),
    (r"/work_pools/(?P<name>[^/]+)/workers/filter/?", WorkerFilterHandler),
    (r"/work_pools/(?P<name>[^/]+)/workers/(?P<worker_name>[^/]+)/?", WorkerHandler),
]

"""`/task_workers/filter`: the task workers subscribed to background task runs right now."""

from __future__ import annotations

import pydantic

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint


class TaskWorkerFilter(pydantic.BaseModel):
    task_keys: list[str]


class TaskWorkerFilterRequest(pydantic.BaseModel):
    task_worker_filter: TaskWorkerFilter | None = None


class TaskWorkerResponse(pydantic.BaseModel):
    identifier: str
    task_keys: list[str]
    timestamp: str


class TaskWorkerFilterHandler(ApiHandler):
    permission = "task_run:read"

    @endpoint(
        "The connected task workers, only those subscribed to one of the given task keys when any are given",
        body=TaskWorkerFilterRequest,
        response=list[TaskWorkerResponse],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(TaskWorkerFilterRequest, default_empty=True)
        keys = request.task_worker_filter.task_keys if request.task_worker_filter else []
        workers = await self.context.task_queue.read_workers(keys)
        self.write_json([worker.as_json() for worker in workers])


routes = [
    (r"/task_workers/filter/?", TaskWorkerFilterHandler),
]

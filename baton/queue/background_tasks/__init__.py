"""The queue of background task runs: deferred task runs in SCHEDULED state waiting for a task worker subscribed to
their task key (`/api/task_runs/subscriptions/scheduled`), and the registry of connected task workers.

`make_task_queue(settings)` picks the implementation: Redis when `BATON_REDIS_URL` is set, so that a run scheduled
through one API process reaches a worker connected to another; process memory otherwise (embedded mode, one process).
"""

from __future__ import annotations

import uuid
from typing import Any

from baton.queue.background_tasks.base import Delivery, TaskQueue, TaskWorkerSeen
from baton.queue.background_tasks.memory import MemoryTaskQueue

__all__ = ["Delivery", "MemoryTaskQueue", "TaskQueue", "TaskWorkerSeen", "make_task_queue"]


def make_task_queue(settings: Any, workspace_id: uuid.UUID | None = None) -> TaskQueue:
    """The task queue for `settings` (it connects on first use), of one workspace (None: the default one): each
    workspace's task runs wait in a queue of their own."""
    if settings.redis_url:
        from baton.queue.background_tasks.redis import RedisTaskQueue

        scope = "" if workspace_id is None else f":workspace:{workspace_id.hex}"
        return RedisTaskQueue(settings.redis_url, f"{settings.redis_namespace}{scope}:tasks")
    return MemoryTaskQueue()

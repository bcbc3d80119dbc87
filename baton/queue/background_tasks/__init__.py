"""The queue of background task runs: deferred task runs in SCHEDULED state waiting for a task worker subscribed to
their task key (`/api/task_runs/subscriptions/scheduled`), and the registry of connected task workers.

`make_task_queue(settings)` picks the implementation: Redis when `BATON_REDIS_URL` is set, so that a run scheduled
through one API process reaches a worker connected to another; process memory otherwise (embedded mode, one process).
"""

from __future__ import annotations

from typing import Any

from baton.queue.background_tasks.base import Delivery, TaskQueue, TaskWorkerSeen
from baton.queue.background_tasks.memory import MemoryTaskQueue

__all__ = ["Delivery", "MemoryTaskQueue", "TaskQueue", "TaskWorkerSeen", "make_task_queue"]


def make_task_queue(settings: Any) -> TaskQueue:
    """The task queue for `settings` (it connects on first use)."""
    if settings.redis_url:
        from baton.queue.background_tasks.redis import RedisTaskQueue

        return RedisTaskQueue(settings.redis_url, f"{settings.redis_namespace}:tasks")
    return MemoryTaskQueue()

"""The background task queue in process memory, for the embedded mode (one API process, no Redis)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import deque
from collections.abc import Sequence

from baton.queue.background_tasks.base import WORKER_STALE_SECONDS, Delivery, TaskQueue, TaskWorkerSeen


class MemoryTaskQueue(TaskQueue):
    """Deques per task key (retries apart, served first); takers wait on an event that every enqueue sets."""

    def __init__(self) -> None:
        super().__init__()
        self._scheduled: dict[str, deque[bytes]] = {}
        self._retries: dict[str, deque[bytes]] = {}
        self._in_flight: dict[str, Delivery] = {}
        self._workers: dict[str, tuple[set[str], float, dt.datetime]] = {}

    async def enqueue(self, task_key: str, payload: bytes, *, retry: bool = False) -> None:
        queues = self._retries if retry else self._scheduled
        queues.setdefault(task_key, deque()).append(payload)
        self._signal_arrival()

    async def _take_now(self, task_keys: Sequence[str]) -> Delivery | None:
        for queues in (self._retries, self._scheduled):
            for task_key in task_keys:
                waiting = queues.get(task_key)
                if waiting:
                    delivery = Delivery(task_key, waiting.popleft(), uuid.uuid4().hex)
                    self._in_flight[delivery.token] = delivery
                    return delivery
        return None

    async def ack(self, delivery: Delivery) -> None:
        self._in_flight.pop(delivery.token, None)

    async def requeue(self, delivery: Delivery) -> None:
        if self._in_flight.pop(delivery.token, None) is not None:
            await self.enqueue(delivery.task_key, delivery.payload, retry=True)

    async def observe_worker(self, worker_id: str, task_keys: Sequence[str]) -> None:
        known = self._workers.get(worker_id)
        keys = (known[0] if known else set()) | set(task_keys)
        self._workers[worker_id] = (keys, time.monotonic(), dt.datetime.now(dt.UTC))

    async def forget_worker(self, worker_id: str) -> None:
        self._workers.pop(worker_id, None)

    async def read_workers(self, task_keys: Sequence[str] = ()) -> list[TaskWorkerSeen]:
        fresh_after = time.monotonic() - WORKER_STALE_SECONDS
        wanted = set(task_keys)
        return [
            TaskWorkerSeen(worker_id, sorted(keys), seen_at)
            for worker_id, (keys, seen, seen_at) in self._workers.items()
            if seen >= fresh_after and (not wanted or keys & wanted)
        ]

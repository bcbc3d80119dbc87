"""The contract of a background task queue, whichever store holds it.

A run is delivered at least once: `take` hands it to one subscriber and keeps it as in flight until that subscriber
`ack`s it (the client acknowledges on receipt) or it is `requeue`d (the subscriber went away first), after which it
is served before newly scheduled runs, as Prefect serves its retry queue first.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

# A worker that was not seen for this long (its API process died without forgetting it) is no longer listed.
WORKER_STALE_SECONDS = 30.0


@dataclass(frozen=True)
class Delivery:
    """One in-flight copy of a scheduled task run: its key, the task run's JSON, and the handle that acks it."""

    task_key: str
    payload: bytes
    token: str


@dataclass(frozen=True)
class TaskWorkerSeen:
    """A connected task worker as `/task_workers/filter` lists it (Prefect's `TaskWorkerResponse`)."""

    identifier: str
    task_keys: list[str]
    timestamp: dt.datetime

    def as_json(self) -> dict[str, object]:
        return {"identifier": self.identifier, "task_keys": self.task_keys, "timestamp": self.timestamp.isoformat()}


class TaskQueue(abc.ABC):
    """Scheduled background task runs by task key, and the task workers waiting for them."""

    #: A waiting taker looks again at least this often, even when no arrival was signalled.
    poll_seconds = float("inf")

    def __init__(self) -> None:
        self._arrived = asyncio.Event()

    def _signal_arrival(self) -> None:
        """Wake every taker of this process waiting now (each then tries to take the run)."""
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    @abc.abstractmethod
    async def enqueue(self, task_key: str, payload: bytes, *, retry: bool = False) -> None:
        """Queue a scheduled task run (`retry`: ahead of new ones, as an AwaitingRetry run is)."""

    async def take(self, task_keys: Sequence[str], wait_seconds: float) -> Delivery | None:
        """The next run of any of `task_keys`, now in flight; None if none came within `wait_seconds`."""
        deadline = time.monotonic() + wait_seconds
        while True:
            arrived = self._arrived
            delivery = await self._take_now(task_keys)
            if delivery is not None:
                return delivery
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), min(left, self.poll_seconds))

    @abc.abstractmethod
    async def _take_now(self, task_keys: Sequence[str]) -> Delivery | None:
        """The next run of any of `task_keys` if one is queued, now in flight."""

    @abc.abstractmethod
    async def ack(self, delivery: Delivery) -> None:
        """The subscriber received `delivery`: it is done with."""

    @abc.abstractmethod
    async def requeue(self, delivery: Delivery) -> None:
        """The subscriber went away without acknowledging `delivery`: serve it again, first."""

    async def keep_in_flight(self, delivery: Delivery) -> None:
        """`delivery` is still awaiting its ack from a live subscriber (stores that recover the in-flight runs of a
        dead process need to hear this now and then)."""
        return None

    @abc.abstractmethod
    async def observe_worker(self, worker_id: str, task_keys: Sequence[str]) -> None:
        """Record that `worker_id` is connected and subscribed to `task_keys` now."""

    @abc.abstractmethod
    async def forget_worker(self, worker_id: str) -> None:
        """`worker_id` disconnected."""

    @abc.abstractmethod
    async def read_workers(self, task_keys: Sequence[str] = ()) -> list[TaskWorkerSeen]:
        """The connected workers, only those subscribed to one of `task_keys` when any are given."""

    async def close(self) -> None:
        """Release connections (nothing queued is lost: it stays in the store, or dies with the process in memory)."""
        return None

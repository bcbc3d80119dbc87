"""The in-process writer lock of a database that allows one writer (SQLite), with a lane for the actors' writes.

In embedded mode the actors share the server's event loop and its writer lock. With a plain FIFO lock, a burst of
requests (32 clients, each a write) queues ahead of every actor transaction, and the actors' share of the writer is
one turn in 33: the events and notifications of state changes the server has already committed fall further behind
the longer the burst lasts. Writes made by actors are the
server's backlog of work it has accepted; they take the lock before waiting request writes, so that backlog stays
short and requests wait a little longer instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import deque
from collections.abc import AsyncIterator

_actor_writes: contextvars.ContextVar[bool] = contextvars.ContextVar("baton_actor_writes", default=False)


def mark_actor_task() -> None:
    """Let the writes of the current task (an actor's message) go ahead of request handlers' writes."""
    _actor_writes.set(True)


def mark_deferrable_task() -> None:
    """Let the writes of the current task queue with request handlers' writes, in arrival order, even in an actor:
    work that can wait (deleting data past its retention) must not go ahead of requests."""
    _actor_writes.set(False)


class WriteLock:
    """A mutex whose waiters are served actor writes first, then in arrival order."""

    def __init__(self) -> None:
        self._locked = False
        self._actor_waiters: deque[asyncio.Future[None]] = deque()
        self._request_waiters: deque[asyncio.Future[None]] = deque()

    @property
    def locked(self) -> bool:
        return self._locked

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        await self._acquire(_actor_writes.get())
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, actor: bool) -> None:
        if not self._locked:
            self._locked = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._actor_waiters if actor else self._request_waiters
        waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the lock was handed over just as the waiter was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it already
                    waiters.remove(waiter)
            raise

    def _release(self) -> None:
        """Hand the lock to the next waiter (it stays locked), or unlock it when nobody waits."""
        for waiters in (self._actor_waiters, self._request_waiters):
            while waiters:
                waiter = waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._locked = False

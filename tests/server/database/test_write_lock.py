"""The writer lock of SQLite databases: actors' writes go before waiting request writes, then arrival order."""

from __future__ import annotations

import asyncio

import pytest

from baton.server.database.write_lock import WriteLock, mark_actor_task


async def _writer(lock: WriteLock, name: str, order: list[str], *, actor: bool, started: asyncio.Event) -> None:
    if actor:
        mark_actor_task()
    started.set()
    async with lock.hold():
        order.append(name)
        await asyncio.sleep(0.01)


async def _start(lock: WriteLock, name: str, order: list[str], *, actor: bool) -> asyncio.Task[None]:
    started = asyncio.Event()
    task = asyncio.ensure_future(_writer(lock, name, order, actor=actor, started=started))
    await started.wait()
    await asyncio.sleep(0)  # let it queue on the lock
    return task


async def test_waiting_actor_writes_go_before_request_writes_that_came_earlier() -> None:
    lock = WriteLock()
    order: list[str] = []
    tasks = [
        await _start(lock, "request-1", order, actor=False),  # takes the lock at once
        await _start(lock, "request-2", order, actor=False),
        await _start(lock, "request-3", order, actor=False),
        await _start(lock, "actor-1", order, actor=True),
        await _start(lock, "actor-2", order, actor=True),
    ]
    await asyncio.gather(*tasks)
    assert order == ["request-1", "actor-1", "actor-2", "request-2", "request-3"]
    assert not lock.locked


async def test_a_cancelled_waiter_neither_keeps_nor_loses_the_lock() -> None:
    lock = WriteLock()
    order: list[str] = []
    first = await _start(lock, "first", order, actor=False)
    cancelled = await _start(lock, "cancelled", order, actor=True)
    last = await _start(lock, "last", order, actor=False)
    cancelled.cancel()
    await asyncio.gather(first, last)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert order == ["first", "last"]
    assert not lock.locked
    async with lock.hold():  # still usable
        assert lock.locked

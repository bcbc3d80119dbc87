"""`TriggerEvaluations`: the trigger evaluations of one actors process, written together (group commit).

Every `evaluate_triggers` message used to take its own write transaction. When a trigger counts the workload's own
events (say "more than 1000 task runs Completed within a minute"), every batch locks that trigger's bucket, so the
messages of one process's worker threads waited for each other's locks while holding a database connection, and the
other automations' events waited behind them on the queue. Here the messages that arrive while a transaction is in
flight wait for the next one, which counts them all (up to `MAX_EVENTS` events) in one transaction: the hot bucket
is locked, read and written once per transaction instead of once per message. A lone message goes at once.

Each message is acknowledged only after the transaction that counted its events committed and what fired was queued;
when that fails, every message in it gets the error and is redelivered (counting is idempotent).
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from baton.server.automations.evaluation import evaluate_events
from baton.server.automations.firing import FiringOutcome
from baton.server.automations.loaded import automation_cache
from baton.server.automations.triggers import ObservedEvent

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from baton.actors.runtime import ActorRuntime

# At most this many events share a transaction: a few queue messages' worth, so that one transaction's locks stay
# short and a failure sends back a bounded amount of work.
MAX_EVENTS = 2000


@dataclass
class _Waiting:
    events: list[dict[str, Any]]
    done: asyncio.Future[None]


@dataclass
class _Batch:
    members: list[_Waiting] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        return [event for member in self.members for event in member.events]


class TriggerEvaluations:
    """Counts event batches for the triggers of `runtime`'s database, sharing write transactions between concurrent
    messages; `act_on` queues what a committed transaction fired."""

    def __init__(self, runtime: ActorRuntime, act_on: Callable[[ActorRuntime, FiringOutcome], Awaitable[None]]) -> None:
        self.runtime = runtime
        self.act_on = act_on
        self.transactions = 0
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def evaluate(self, events: list[dict[str, Any]]) -> None:
        """Count `events` (JSON-mode dicts); returns once they are committed and what fired is queued."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(events, done))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_batches())
        await done

    async def _write_batches(self) -> None:
        try:
            while self._waiting:
                batch = self._take_batch()
                try:
                    await self._write(batch.events())
                except BaseException as exc:
                    for member in batch.members:
                        if member.done.done():
                            continue
                        if isinstance(exc, Exception):
                            member.done.set_exception(exc)
                        else:  # the writer itself was cancelled (the loop is closing)
                            member.done.cancel()
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for member in batch.members:
                        if not member.done.done():
                            member.done.set_result(None)
        finally:
            self._writer = None

    def _take_batch(self) -> _Batch:
        batch = _Batch([self._waiting.pop(0)])
        size = len(batch.members[0].events)
        while self._waiting and size + len(self._waiting[0].events) <= MAX_EVENTS:
            member = self._waiting.pop(0)
            batch.members.append(member)
            size += len(member.events)
        return batch

    async def _write(self, events: list[dict[str, Any]]) -> None:
        database = await self.runtime.database()
        loaded = await automation_cache(database).current(max_age=0)
        if not loaded.triggers:
            return
        observed = [ObservedEvent.from_json(event) for event in loaded.interesting(events)]
        if not observed:
            return
        async with database.write() as connection:
            outcome = await evaluate_events(connection, loaded, observed)
        self.transactions += 1
        await self.act_on(self.runtime, outcome)


_evaluations: weakref.WeakKeyDictionary[ActorRuntime, TriggerEvaluations] = weakref.WeakKeyDictionary()


def trigger_evaluations(
    runtime: ActorRuntime, act_on: Callable[[ActorRuntime, FiringOutcome], Awaitable[None]]
) -> TriggerEvaluations:
    """The one `TriggerEvaluations` of `runtime` (its actors' process)."""
    evaluations = _evaluations.get(runtime)
    if evaluations is None:
        evaluations = _evaluations[runtime] = TriggerEvaluations(runtime, act_on)
    return evaluations

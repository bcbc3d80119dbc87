"""Actors of the trigger engine: count recorded events for the event triggers of enabled automations, close proactive
windows periodically, and queue what fired (the action runs; the `prefect.automation.*` events, which other
automations may react to).

The events recorder counts its batches in the transaction that records them (`RecordedBatchCount`); the other paths
that store events queue theirs after their commit (`queue_trigger_evaluation`). Only the events some trigger may look
at are counted, so a server without automations pays nothing but a check per second."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import orjson

from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.actors.trigger_batches import trigger_evaluations
from baton.queue import messages
from baton.queue.messages import QueuedEvent
from baton.server.automations.evaluation import evaluate_events, evaluate_proactive_trigger, proactive_pass_needed
from baton.server.automations.firing import FiringOutcome
from baton.server.automations.loaded import LoadedAutomations, automation_cache
from baton.server.automations.triggers import ObservedEvent
from baton.server.database.dialects.base import AfterRecording
from baton.server.database.types import utcnow
from baton.server.models.automations.buckets import SWEEP_BATCH, sweep_counted_events, sweep_expired_buckets

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

logger = logging.getLogger("baton.actors")

# Counted events are kept this long: a batch redelivered (queue retries back off up to minutes) or an event a client
# sends again within it counts nothing twice; an event older than its trigger's bucket never counts anyway.
COUNTED_EVENT_RETENTION = dt.timedelta(hours=1)
# Closed buckets are kept this long past their window (Prefect's expired bucket buffer), so that a proactive pass a
# little late still sees them.
EXPIRED_BUCKET_BUFFER = dt.timedelta(seconds=60)
# Each sweep deletes at most this many batches (SWEEP_BATCH rows each) per table and pass.
SWEEP_BATCHES_PER_PASS = 20


async def queue_trigger_evaluation(runtime: ActorRuntime, events: list[dict[str, Any]]) -> None:
    """After a commit that stored `events` (JSON-mode dicts): queue those some enabled automation's trigger may look
    at for `evaluate_triggers` (nothing when no automation is enabled)."""
    if not events:
        return
    loaded = await automation_cache(await runtime.database()).current()
    interesting: list[QueuedEvent] = list(loaded.interesting(events))
    if interesting:
        runtime.broker.enqueue(messages.evaluate_triggers(interesting))


class RecordedBatchCount:
    """The counting of a batch for the triggers inside the transaction that records it (`record_events` hands
    `after_recording` to `DatabaseDialect.record_event_batch`): the insert of the events tells which are new, so they
    are counted once without a second transaction, a second queue hop or a row per counted event, and the dialect
    hands over only the new events whose names some trigger looks at (PostgreSQL returns them from the statement
    that parsed the batch, so the batch is not decoded in Python); `act` queues what fired after the commit. A failure
    rolls the batch back whole, and its redelivery records and counts it then."""

    def __init__(self, runtime: ActorRuntime, loaded: LoadedAutomations) -> None:
        self.runtime = runtime
        self.loaded = loaded
        self.outcome = FiringOutcome()

    def after_recording(self) -> AfterRecording:
        return AfterRecording(self.count, self.loaded.event_names())

    async def count(self, connection: AsyncConnection, new_events: list[dict[str, Any]]) -> None:
        self.outcome = FiringOutcome()
        # Only the name is checked here: `evaluate_events` matches the resources anyway.
        candidates = self.loaded.candidates
        observed = [ObservedEvent.from_json(event) for event in new_events if candidates(str(event.get("event", "")))]
        if observed:
            self.outcome = await evaluate_events(connection, self.loaded, observed, recorded_here=True)

    async def act(self) -> None:
        await act_on(self.runtime, self.outcome)


async def recorded_batch_count(runtime: ActorRuntime, batch: str | list[dict[str, Any]]) -> RecordedBatchCount | None:
    """The counting of a batch `record_events` is about to record, or None when no trigger looks at its events: for a
    batch's text, decided without decoding it (`LoadedAutomations.may_interest`)."""
    loaded = await automation_cache(await runtime.database()).current()
    if isinstance(batch, str) and not loaded.may_interest(batch):
        return None
    return RecordedBatchCount(runtime, loaded) if loaded.triggers else None


async def act_on(runtime: ActorRuntime, outcome: FiringOutcome) -> None:
    """After the commit of what fired: queue its action runs, and let the automations see its events."""
    if outcome.action_run_ids:
        runtime.broker.enqueue(messages.run_automation_actions([str(each) for each in outcome.action_run_ids]))
    await queue_trigger_evaluation(runtime, outcome.events)


async def evaluate_triggers(runtime: ActorRuntime, events: str | list[dict[str, Any]]) -> None:
    """Count a batch of stored events (JSON text or a list of JSON-mode dicts) for the event triggers of the enabled
    automations, then queue what fired. The batches of one process that arrive together share one transaction
    (`trigger_batches`). Idempotent: a redelivered batch counts nothing again."""
    decoded = orjson.loads(events) if isinstance(events, str) else events
    await trigger_evaluations(runtime, act_on).evaluate(decoded)


async def evaluate_proactive_triggers(runtime: ActorRuntime) -> NothingDue | None:
    """Periodic: fire the proactive triggers whose windows closed under their threshold (one transaction per
    trigger), then delete old counted events and expired buckets in bounded batches. With no automation, nothing is
    due before a write."""
    database = await runtime.database()
    loaded = await automation_cache(database).current(max_age=0)
    if not loaded.automations:
        return NothingDue()
    as_of = utcnow()
    for each in loaded.proactive_triggers():
        try:
            async with database.read() as connection:
                if not await proactive_pass_needed(connection, each, as_of):
                    continue
            async with database.write() as connection:
                outcome = await evaluate_proactive_trigger(connection, loaded, each, as_of)
        except Exception:
            logger.exception(
                "Proactive evaluation of trigger %s of automation %s failed", each.trigger.id, each.automation_id
            )
            continue
        await act_on(runtime, outcome)
    await sweep_trigger_state(runtime, utcnow())
    return None


async def sweep_trigger_state(runtime: ActorRuntime, now: dt.datetime) -> None:
    """Delete counted events past their retention and buckets past their window, SWEEP_BATCH rows per transaction."""
    database = await runtime.database()
    for sweep, older_than in (
        (sweep_counted_events, now - COUNTED_EVENT_RETENTION),
        (sweep_expired_buckets, now - EXPIRED_BUCKET_BUFFER),
    ):
        for _ in range(SWEEP_BATCHES_PER_PASS):
            async with database.write() as connection:
                deleted = await sweep(connection, older_than)
            if deleted < SWEEP_BATCH:
                break

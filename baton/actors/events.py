"""Actors of the events pipeline: record event batches (and the task runs they describe), emit flow-run events, and
emit those whose message was lost."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from baton.actors.automation_triggers import queue_trigger_evaluation, recorded_batch_count
from baton.actors.cancellation import cancelled_flow_runs
from baton.actors.notifications import match_changes, queue_deliveries
from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.queue import messages
from baton.queue.backlog import outstanding_messages
from baton.queue.messages import FlowRunStateChange
from baton.server.database.types import utcnow
from baton.server.models.concurrency.concurrency_leases import release_leases_of_holders
from baton.server.models.configuration import read_configuration, write_configuration
from baton.server.models.events.events import write_events
from baton.server.models.events.flow_run_events import (
    any_states_written_after,
    build_flow_run_state_events,
    read_unpublished_state_changes,
)
from baton.server.models.runs.task_run_recorder import finished_runs
from baton.server.schemas.events import FLOW_RUN_RESOURCE_PREFIX

logger = logging.getLogger("baton.actors")

# With no mark stored yet (a new install, or one upgraded to this sweep), the first pass looks this far back.
UNPUBLISHED_FIRST_LOOKBACK = dt.timedelta(minutes=10)
# States one pass emits at most; the next pass goes on from there.
UNPUBLISHED_BATCH = 500
# Where the sweep keeps how far it has looked (the `configuration` table).
UNPUBLISHED_MARK_KEY = "UNPUBLISHED_STATE_CHANGES_CHECKED_UNTIL"


async def record_events(runtime: ActorRuntime, events: str | list[dict[str, Any]]) -> None:
    """Persist a batch in one transaction: the events and the task runs they describe. Both writes are idempotent
    (a stored event id or state id is skipped; a run only takes a newer state), so a batch redelivered after a crash,
    or an event a client sent twice, changes nothing.

    `events` is the batch's JSON text, as the server queues it (a list of dicts is taken too); the database's dialect
    records it (`DatabaseDialect.record_event_batch`), and the new events some automation's trigger may look at are
    counted for the triggers in the same transaction (`RecordedBatchCount`); what fired is queued after the commit."""
    database = await runtime.database()
    counting = await recorded_batch_count(runtime, events)
    await database.dialect.record_event_batch(database, events, counting.after_recording() if counting else None)
    if counting is not None:
        await counting.act()


async def emit_flow_run_events(runtime: ActorRuntime, changes: list[FlowRunStateChange]) -> None:
    """Build the `prefect.flow-run.<State>` events of committed state changes from the database and store them, and
    match the changes against notification policies in the same transaction (one queue hop and one transaction
    fewer between a state change and its message); then queue the deliveries and the trigger evaluation. All of it
    is idempotent (event ids are state ids; a delivery is unique per policy and state), so a redelivered message
    changes nothing."""
    database = await runtime.database()
    async with database.write() as connection:
        events = await build_flow_run_state_events(connection, changes)
        await write_events(connection, events)
        await release_leases_of_holders(connection, finished_runs(events, FLOW_RUN_RESOURCE_PREFIX))
        waiting = await match_changes(connection, changes)
    queue_deliveries(runtime, waiting)
    await queue_trigger_evaluation(runtime, events)
    cancelled = cancelled_flow_runs(events)
    if cancelled:
        runtime.broker.enqueue(messages.cancel_child_runs(cancelled))


async def resume_unpublished_state_changes(runtime: ActorRuntime) -> NothingDue | None:
    """Periodic: emit the events (and so the notifications and trigger evaluations) of flow-run states committed at
    least `services_unpublished_state_changes_grace_seconds` ago that have none. An API process publishes a state
    change about 0.1 s after its commit (the publisher's batch); killed in between, it takes the message with it.
    The pass looks at each state once, moving a mark over the states' write times, and waits while the state-change
    and notification queues are behind (their states' events may still come, and emitting them too would only add
    work). Emitting is idempotent, so a state whose message arrives after all changes nothing twice. A transaction
    that commits a state longer than the grace after writing it would slip behind the mark: none takes that long.
    With no state written after the mark, nothing is due before a write, and the mark stays where it is."""
    if await asyncio.to_thread(outstanding_messages, runtime.process_broker) > 0:
        return None
    database = await runtime.database()
    # States younger than the grace are left to the message that carries them (the publisher sends within 0.1 s, a
    # busy queue may hold it a while): the sweep looks for messages lost, not late ones.
    until = utcnow() - dt.timedelta(seconds=runtime.settings.services_unpublished_state_changes_grace_seconds)
    async with database.read() as connection:
        mark = await read_configuration(connection, UNPUBLISHED_MARK_KEY)
        after = dt.datetime.fromisoformat(mark["until"]) if mark else until - UNPUBLISHED_FIRST_LOOKBACK
        if not await any_states_written_after(connection, after):
            return NothingDue()
        if after >= until:
            return None
        changes, reached = await read_unpublished_state_changes(connection, after, until, UNPUBLISHED_BATCH)
    if changes:
        logger.warning(
            "%d committed flow-run state changes had no event (their message was lost); emitting them now",
            len(changes),
        )
        await emit_flow_run_events(runtime, changes)
    async with database.write() as connection:
        await write_configuration(connection, UNPUBLISHED_MARK_KEY, {"until": reached.isoformat()})
    return None

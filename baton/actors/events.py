"""Actors of the events pipeline: record event batches (and the task runs they describe), emit flow-run events."""

from __future__ import annotations

import logging
from typing import Any

from baton.actors.automation_triggers import queue_batch_evaluation, queue_trigger_evaluation
from baton.actors.cancellation import cancelled_flow_runs
from baton.actors.notifications import match_changes, queue_deliveries
from baton.actors.runtime import ActorRuntime
from baton.queue import messages
from baton.queue.messages import FlowRunStateChange
from baton.server.models.concurrency.concurrency_leases import release_leases_of_holders
from baton.server.models.events.events import write_events
from baton.server.models.events.flow_run_events import build_flow_run_state_events
from baton.server.models.runs.task_run_recorder import finished_runs
from baton.server.schemas.events import FLOW_RUN_RESOURCE_PREFIX

logger = logging.getLogger("baton.actors")


async def record_events(runtime: ActorRuntime, events: str | list[dict[str, Any]]) -> None:
    """Persist a batch in one transaction: the events and the task runs they describe. Both writes are idempotent
    (a stored event id or state id is skipped; a run only takes a newer state), so a batch redelivered after a crash,
    or an event a client sent twice, changes nothing.

    `events` is the batch's JSON text, as the server queues it (a list of dicts is taken too); the database's dialect
    records it (`DatabaseDialect.record_event_batch`). Then the events some automation's trigger may look at are
    queued for `evaluate_triggers`."""
    database = await runtime.database()
    await database.dialect.record_event_batch(database, events)
    await queue_batch_evaluation(runtime, events)


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

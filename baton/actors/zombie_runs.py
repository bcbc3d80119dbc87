"""Periodic job: Running flow runs whose heartbeat stopped become Crashed, and Cancelling runs that nobody is left
to finish become Cancelled (see `baton.server.models.runs.zombie_runs`)."""

from __future__ import annotations

import logging

from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.actors.state_changes import state_change
from baton.queue import messages
from baton.queue.messages import FlowRunStateChange
from baton.server.database.types import utcnow
from baton.server.models.runs.zombie_runs import any_active_flow_runs, find_orphaned_runs, finish_orphaned_run

logger = logging.getLogger("baton.actors")


async def mark_zombie_runs(runtime: ActorRuntime) -> NothingDue | None:
    """Finish the orphaned runs; with no run Running or Cancelling, nothing is due before a write."""
    database = await runtime.database()
    settings = runtime.settings
    async with database.read() as connection:
        if not await any_active_flow_runs(connection):
            return NothingDue()
        orphans = await find_orphaned_runs(
            connection,
            utcnow(),
            settings.services_zombie_runs_timeout_seconds,
            settings.services_cancelling_timeout_seconds,
        )
    changes: list[FlowRunStateChange] = []
    for orphan in orphans:
        async with database.write() as connection:
            outcome = await finish_orphaned_run(connection, orphan)
        change = state_change(orphan.flow_run_id, outcome)
        if change is None:
            continue
        changes.append(change)
        logger.warning("Flow run %s: %s", orphan.flow_run_id, orphan.proposed.message)
    if changes:
        runtime.broker.enqueue(messages.emit_flow_run_events(changes))
    return None

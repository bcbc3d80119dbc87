"""Periodic job: Scheduled runs more than `services_late_runs_after_seconds` past their start time become Late."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.queue import messages
from baton.queue.messages import FlowRunStateChange
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.runs.flow_runs import read_flow_run, read_late_flow_run_ids, read_next_scheduled_start_time
from baton.server.models.runs.states import set_flow_run_state
from baton.server.schemas.states import StateCreate, StateDetails
from baton.states import LATE, StateType, default_state_name

logger = logging.getLogger("baton.actors")

# Runs handled per sweep; the next sweep takes the rest.
BATCH_SIZE = 400


async def mark_late_runs(runtime: ActorRuntime) -> NothingDue | None:
    """Mark the runs that are late; with none, nothing is due before the earliest Scheduled run becomes late."""
    database = await runtime.database()
    late_after = dt.timedelta(seconds=runtime.settings.services_late_runs_after_seconds)
    cutoff = utcnow() - late_after
    async with database.read() as connection:
        run_ids = await read_late_flow_run_ids(connection, cutoff, BATCH_SIZE)
        if not run_ids:
            next_start = await read_next_scheduled_start_time(connection)
            return NothingDue(next_start + late_after if next_start is not None else None)
    changes: list[FlowRunStateChange] = []
    for run_id in run_ids:
        change = await _mark_late(database, run_id, cutoff)
        if change is not None:
            changes.append(change)
    if changes:
        logger.info("Marked %d flow runs Late", len(changes))
        runtime.broker.enqueue(messages.emit_flow_run_events(changes))
    return None


async def _mark_late(database: Database, run_id: uuid.UUID, cutoff: dt.datetime) -> FlowRunStateChange | None:
    """Move one run to Late under its row lock, unless it left Scheduled (or was rescheduled) meanwhile."""
    async with database.write() as connection:
        row = await read_flow_run(connection, run_id, for_update=True)
        if row is None or row["state_name"] != default_state_name(StateType.SCHEDULED):
            return None
        scheduled: dt.datetime | None = row["next_scheduled_start_time"]
        if scheduled is None or scheduled > cutoff:
            return None
        late = StateCreate(type=StateType.SCHEDULED, name=LATE, state_details=StateDetails(scheduled_time=scheduled))
        outcome = await set_flow_run_state(connection, run_id, late, force=True, row=row)
    written = outcome.state_to_write
    if written is None:
        return None
    return {
        "flow_run_id": str(run_id),
        "state_id": str(written["id"]),
        "from_state": {"id": str(row["state_id"]), "type": row["state_type"], "name": row["state_name"]},
    }

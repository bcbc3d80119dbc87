"""Actors of the events pipeline: record event batches (and the task runs they describe), emit flow-run events."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from baton.actors import runtime
from baton.queue.messages import FlowRunStateChange
from baton.server.models.events import write_events
from baton.server.models.flow_run_events import build_flow_run_state_events
from baton.server.models.task_run_recorder import is_client_task_run_event, record_task_runs

logger = logging.getLogger("baton.actors")


async def record_events(events: list[dict[str, Any]]) -> None:
    """Persist a batch in one transaction: the events (a repeated id is skipped) and the task runs the newly
    stored ones describe. If the process dies before the commit the message is redelivered and nothing is doubled."""
    database = await runtime.database()
    async with database.write() as connection:
        inserted = await write_events(connection, events)
        fresh = [event for event in events if is_client_task_run_event(event) and _id(event) in inserted]
        if fresh:
            await record_task_runs(connection, fresh)


async def emit_flow_run_events(changes: list[FlowRunStateChange]) -> None:
    """Build the `prefect.flow-run.<State>` events of committed state changes from the database and store them."""
    database = await runtime.database()
    async with database.write() as connection:
        events = await build_flow_run_state_events(connection, changes)
        await write_events(connection, events)


def _id(event: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(event["id"]))

"""Actor: when a flow run reaches Cancelled, its unfinished task runs and subflow runs are cancelled too."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from baton.actors.runtime import ActorRuntime
from baton.actors.state_changes import state_change
from baton.queue import messages
from baton.queue.messages import FlowRunStateChange
from baton.server.models.runs.cancellation import cancel_child_runs as cancel_children
from baton.server.schemas.events import FLOW_RUN_RESOURCE_PREFIX, RESOURCE_ID

logger = logging.getLogger("baton.actors")


def cancelled_flow_runs(events: list[dict[str, Any]]) -> list[str]:
    """The ids of the flow runs that `events` show entering CANCELLED."""
    return [
        event["resource"][RESOURCE_ID][len(FLOW_RUN_RESOURCE_PREFIX) :]
        for event in events
        if event["resource"].get("prefect.state-type") == "CANCELLED"
        and event["resource"][RESOURCE_ID].startswith(FLOW_RUN_RESOURCE_PREFIX)
    ]


async def cancel_child_runs(runtime: ActorRuntime, flow_run_ids: list[str]) -> None:
    """Idempotent: a run's children already finished are left alone, so a redelivered message changes nothing."""
    database = await runtime.database()
    changes: list[FlowRunStateChange] = []
    for flow_run_id in flow_run_ids:
        async with database.write() as connection:
            cancelled, subflows = await cancel_children(connection, uuid.UUID(flow_run_id))
        for subflow_id, outcome in subflows:
            change = state_change(subflow_id, outcome)
            if change is not None:
                changes.append(change)
        if cancelled or subflows:
            logger.info("Cancelled %d task runs and %d subflow runs of %s", cancelled, len(subflows), flow_run_id)
    if changes:
        # Their events come back here, which cancels the subflows' own children.
        runtime.broker.enqueue(messages.emit_flow_run_events(changes))

"""What happens when a trigger of an automation changes state: the firing is recorded with one action run per
action (exactly once per `firing_key`) and a `prefect.automation.triggered` or `.resolved` event describes it.

Both the event-trigger engine and the metric-trigger evaluator call `trigger_fired`; a composite trigger's children
are routed to their parent by the engine before they get here (only the automation's top-level trigger runs
actions)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.models.automations.firings import record_firing
from baton.server.models.events.events import write_events
from baton.server.schemas.automations import TriggerState

AUTOMATION_RESOURCE_PREFIX = "prefect.automation."
# Namespace of the ids of the events Baton emits about firings: derived from the firing id, so never emitted twice.
_EVENT_NAMESPACE = uuid.UUID("6f1c5a52-4c1e-4a59-9d0e-2a8f4b8f0a51")


@dataclass
class FiringOutcome:
    """What a call to `trigger_fired` did: the action runs to enqueue (after commit) and the events it stored (so
    that the caller can let other automations see them)."""

    action_run_ids: list[uuid.UUID] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def state_event_id(firing_id: uuid.UUID, state: TriggerState) -> uuid.UUID:
    """The id of a firing's `prefect.automation.triggered|resolved` event (its action events relate to it)."""
    return uuid.uuid5(_EVENT_NAMESPACE, f"{firing_id}:{state.value}")


def automation_state_event(
    automation: dict[str, Any],
    firing_id: uuid.UUID,
    state: TriggerState,
    occurred: dt.datetime,
    triggering_labels: dict[str, str],
    triggering_event: dict[str, Any] | None,
) -> dict[str, Any]:
    """The `prefect.automation.triggered|resolved` event of a firing, in the shape Prefect's server emits."""
    related = []
    if triggering_event is not None:
        related.append(
            {
                "prefect.resource.id": f"prefect.event.{triggering_event['id']}",
                "prefect.resource.role": "triggering-event",
            }
        )
    return {
        "id": str(state_event_id(firing_id, state)),
        "occurred": occurred.isoformat(),
        "event": f"prefect.automation.{state.value.lower()}",
        "resource": {
            "prefect.resource.id": f"{AUTOMATION_RESOURCE_PREFIX}{automation['id']}",
            "prefect.resource.name": automation["name"],
        },
        "related": related,
        "payload": {"triggering_labels": triggering_labels, "triggering_event": triggering_event},
        "received": occurred.isoformat(),
    }


async def trigger_fired(
    connection: AsyncConnection,
    automation: dict[str, Any],
    *,
    trigger_id: uuid.UUID,
    state: TriggerState,
    firing_key: str,
    occurred: dt.datetime,
    triggering_labels: dict[str, str] | None = None,
    triggering_event: dict[str, Any] | None = None,
    triggering_value: Any = None,
) -> FiringOutcome:
    """Record the top-level trigger of `automation` (its row) changing to `state`, with its action runs and its
    event, in the caller's transaction. Nothing happens when `firing_key` was recorded before."""
    labels = triggering_labels or {}
    recorded = await record_firing(
        connection,
        automation,
        trigger_id=trigger_id,
        trigger_state=state,
        firing_key=firing_key,
        occurred=occurred,
        triggering_labels=labels,
        triggering_event=triggering_event,
        triggering_value=triggering_value,
    )
    if recorded is None:
        return FiringOutcome()
    event = automation_state_event(automation, recorded.firing_id, state, occurred, labels, triggering_event)
    await write_events(connection, [event])
    return FiringOutcome(recorded.action_run_ids, [event])

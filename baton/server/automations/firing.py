"""What happens when a trigger of an automation changes state: the firing is recorded with one action run per
action (exactly once per `firing_key`) and a `prefect.automation.triggered` or `.resolved` event describes it.

The event-trigger engine calls `route_firing`, which holds a composite trigger's children until their parent fires
(only the automation's top-level trigger runs actions); the metric-trigger evaluator may call `trigger_fired` for a
top-level trigger, or `route_firing` too."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.automations.loaded import LoadedAutomations
from baton.server.automations.triggers import ChildFiring, composite_firing_key, composite_ready
from baton.server.database.types import utcnow
from baton.server.models.automations.buckets import (
    clear_child_firings,
    hold_child_firing,
    lock_composite_trigger,
    read_automation_for_firing,
    read_child_firings,
)
from baton.server.models.automations.firings import record_firing
from baton.server.models.events.events import write_events
from baton.server.schemas.automations import CompoundTrigger, TriggerState

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


async def route_firing(
    connection: AsyncConnection,
    loaded: LoadedAutomations,
    automation_id: uuid.UUID,
    *,
    trigger_id: uuid.UUID,
    state: TriggerState,
    firing_key: str,
    occurred: dt.datetime,
    triggering_labels: dict[str, str] | None = None,
    triggering_event: dict[str, Any] | None = None,
) -> FiringOutcome:
    """A trigger of an enabled automation changed state: the automation's top-level trigger fires through
    `trigger_fired` (if the automation is still enabled and still has that trigger: the engine's view may be a second
    old); a child of a compound or sequence trigger is held by its parent, which fires when `require` children (all of
    them in order, for a sequence) fired within its `within`. Only a top-level trigger resolves."""
    parent = loaded.parents.get(trigger_id)
    if parent is None:
        automation = await read_automation_for_firing(connection, automation_id)
        if automation is None or str((automation["trigger"] or {}).get("id")) != str(trigger_id):
            return FiringOutcome()
        return await trigger_fired(
            connection,
            automation,
            trigger_id=trigger_id,
            state=state,
            firing_key=firing_key,
            occurred=utcnow(),
            triggering_labels=triggering_labels,
            triggering_event=triggering_event,
        )
    if state != TriggerState.TRIGGERED:
        return FiringOutcome()
    child = ChildFiring(trigger_id, occurred, firing_key)
    if isinstance(parent, CompoundTrigger) and parent.expected_firings == 1:
        held = [child]
    else:
        await lock_composite_trigger(connection, parent.id)
        await hold_child_firing(
            connection, automation_id, parent.id, child, {"triggering_labels": triggering_labels or {}}
        )
        since = occurred - parent.within if parent.within is not None else None
        held = [each for each, _ in await read_child_firings(connection, parent.id, since)]
        if not composite_ready(parent, held):
            return FiringOutcome()
        await clear_child_firings(connection, parent.id)
    return await route_firing(
        connection,
        loaded,
        automation_id,
        trigger_id=parent.id,
        state=TriggerState.TRIGGERED,
        firing_key=composite_firing_key(parent, held),
        occurred=occurred,
        triggering_event=triggering_event,
    )

"""Actors running the actions of automation firings, each exactly once.

Each action run is claimed (PENDING -> RUNNING) in its own short transaction, so a message delivered twice, or to
two processes, runs it once. An action that only changes Baton's database runs in the transaction that records its
outcome and its `prefect.automation.action.triggered` and `.executed|.failed` events: effect and record commit
together. One that reaches outside (a notification, a webhook) runs between two transactions. A run whose process
died stays RUNNING; the periodic `resume_stalled_actions` queues it again, and the claim takes it again once it is
older than the stale age (BATON_SERVICES_AUTOMATIONS_STALE_ACTION_SECONDS). A run-deployment keys its flow run on
the action run, so even then only one run is made.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.queue import messages
from baton.queue.messages import QueuedEvent
from baton.server.automations.actions import ActionContext, ActionFailed, is_remote, parse_action, run_local, run_remote
from baton.server.automations.firing import AUTOMATION_RESOURCE_PREFIX, state_event_id
from baton.server.automations.rendering import Renderer
from baton.server.database.types import utcnow
from baton.server.models.automations.automations import read_automation
from baton.server.models.automations.firings import (
    any_unfinished_action_runs,
    claim_action_run,
    finish_action_run,
    unfinished_action_run_ids,
)
from baton.server.models.events.events import write_events
from baton.server.schemas.automations import ActionRunStatus, TriggerState
from baton.settings import Settings

logger = logging.getLogger("baton.automations")

# A run RUNNING for longer than this belongs to a process that died; it is claimed again. Longer than any action
# takes (a webhook times out after 10 s), short enough that a lost action is retried within minutes. The default of
# BATON_SERVICES_AUTOMATIONS_STALE_ACTION_SECONDS, which `stale_after` reads.
STALE_AFTER = dt.timedelta(minutes=5)
# Runs still PENDING this long after their last change are queued again by the periodic sweep: their message was lost
# (the in-memory queue of a stopped server). RUNNING ones are queued again once stale: their process died.
STALLED_AFTER = dt.timedelta(minutes=1)
# Action runs per `run_automation_actions` message, and runs a worker executes at once.
ACTION_BATCH_SIZE = 50
ACTION_CONCURRENCY = 8
# Prefect links an action's events to the triggering event only when it happened this recently.
FOLLOWS_WITHIN = dt.timedelta(minutes=5)
# Namespace of the ids of action events: derived from the action run, so a run recorded twice stores them once.
_EVENT_NAMESPACE = uuid.UUID("0b7e0d7e-5f57-4d0c-9a39-7b6f2f1d7c1e")


def stale_after(settings: Settings) -> dt.timedelta:
    """How long a run may stay RUNNING before it is taken for the run of a dead process and claimed again."""
    return dt.timedelta(seconds=settings.services_automations_stale_action_seconds)


async def run_automation_actions(runtime: ActorRuntime, action_run_ids: list[str]) -> None:
    """Claim and execute each action run (at most ACTION_CONCURRENCY at once); runs already done, or running in
    another process, are skipped."""
    gate = asyncio.Semaphore(ACTION_CONCURRENCY)

    async def run_one(action_run_id: str) -> None:
        async with gate:
            await execute_action_run(runtime, uuid.UUID(action_run_id))

    outcomes = await asyncio.gather(*(run_one(each) for each in action_run_ids), return_exceptions=True)
    # Every run of the batch has had its chance; an unexpected error (the database went away) fails the message so
    # that the queue retries it, and a run it left RUNNING is claimed again once stale.
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def execute_action_run(runtime: ActorRuntime, action_run_id: uuid.UUID) -> ActionRunStatus | None:
    """Claim, execute and record one action run; its final status, or None when it was not claimed."""
    database = await runtime.database()
    async with database.write() as connection:
        run = await claim_action_run(connection, action_run_id, stale_after(runtime.settings))
        automation = await read_automation(connection, run["automation_id"]) if run else None
    if run is None:
        return None
    if automation is None:
        async with database.write() as connection:
            await finish_action_run(
                connection, action_run_id, ActionRunStatus.FAILED, reason="The automation was deleted"
            )
        return ActionRunStatus.FAILED
    context = ActionContext(
        run=run,
        automation=automation,
        renderer=Renderer(run, automation, runtime.settings.effective_ui_url),
        settings=runtime.settings,
        cipher=runtime.cipher(),
        http_client=runtime.http_client,
    )
    try:
        action = parse_action(run["action"])
        if is_remote(action):
            await run_remote(database, context, action)
            async with database.write() as connection:
                events = await _record(connection, context, None)
        else:
            async with database.write() as connection:
                await run_local(connection, context, action)
                events = await _record(connection, context, None)
        status = ActionRunStatus.SUCCEEDED
    except ActionFailed as failure:
        logger.warning("Action %s of automation %s failed: %s", action_run_id, automation["id"], failure.reason)
        # A local action's effects were rolled back: nothing of it is announced.
        context.state_changes.clear()
        context.messages.clear()
        async with database.write() as connection:
            events = await _record(connection, context, failure.reason)
        status = ActionRunStatus.FAILED
    _announce(runtime, context, events)
    return status


async def _record(connection: AsyncConnection, context: ActionContext, reason: str | None) -> list[dict[str, Any]]:
    """Finish the run (SUCCEEDED, or FAILED with `reason`) and store its two events."""
    if reason is None:
        await finish_action_run(
            connection, context.run["id"], ActionRunStatus.SUCCEEDED, resulting_resource=context.resulting_resource
        )
    else:
        await finish_action_run(connection, context.run["id"], ActionRunStatus.FAILED, reason=reason)
    events = action_events(context, reason)
    await write_events(connection, events)
    return events


def action_events(context: ActionContext, reason: str | None) -> list[dict[str, Any]]:
    """The `prefect.automation.action.triggered` event and its `.executed` (or `.failed`, with `reason`) event, in
    the shape Prefect's server emits them."""
    run, automation = context.run, context.automation
    trigger = automation.get("trigger") or {}
    resource = {
        "prefect.resource.id": f"{AUTOMATION_RESOURCE_PREFIX}{automation['id']}",
        "prefect.resource.name": automation["name"],
        "prefect.trigger-type": trigger.get("type", "event"),
    }
    if trigger.get("type", "event") == "event" and trigger.get("posture"):
        resource["prefect.posture"] = trigger["posture"]
    state = TriggerState(run["firing_trigger_state"])
    related = [
        *context.related,
        {
            "prefect.resource.id": f"prefect.event.{state_event_id(run['firing_id'], state)}",
            "prefect.resource.role": "automation-triggered-event",
        },
    ]
    triggering = context.triggering_event
    follows = None
    if triggering is not None:
        related.append(
            {"prefect.resource.id": f"prefect.event.{triggering['id']}", "prefect.resource.role": "triggering-event"}
        )
        if _close_in_time(run["firing_occurred"], triggering.get("occurred")):
            follows = str(triggering["id"])
    details = {
        "action_index": run["action_index"],
        "action_type": run["action"].get("type"),
        "invocation": str(run["id"]),
    }
    now = utcnow().isoformat()
    triggered_id = str(uuid.uuid5(_EVENT_NAMESPACE, f"{run['id']}:triggered"))
    outcome = "executed" if reason is None else "failed"
    payload = {**details, **({"reason": reason} if reason is not None else {}), **context.details}
    return [
        {
            "id": triggered_id,
            "occurred": run["firing_occurred"].isoformat(),
            "event": "prefect.automation.action.triggered",
            "resource": resource,
            "related": related,
            "payload": details,
            "follows": follows,
            "received": now,
        },
        {
            "id": str(uuid.uuid5(_EVENT_NAMESPACE, f"{run['id']}:{outcome}")),
            "occurred": now,
            "event": f"prefect.automation.action.{outcome}",
            "resource": resource,
            "related": related,
            "payload": payload,
            "follows": triggered_id,
            "received": now,
        },
    ]


def _close_in_time(fired: dt.datetime, occurred: Any) -> bool:
    """Whether the triggering event occurred within FOLLOWS_WITHIN of the firing (False when its time is unreadable)."""
    try:
        when = occurred if isinstance(occurred, dt.datetime) else dt.datetime.fromisoformat(str(occurred))
        return abs(fired - when) < FOLLOWS_WITHIN
    except (TypeError, ValueError):
        return False


def _announce(runtime: ActorRuntime, context: ActionContext, events: list[dict[str, Any]]) -> None:
    """After the commit: announce the state changes as the API does, send the follow-up messages, and let the
    trigger engine see the action's events (when it runs in this process's broker)."""
    if context.state_changes:
        runtime.broker.enqueue(messages.emit_flow_run_events(context.state_changes))
    for message in context.messages:
        runtime.broker.enqueue(message)
    if events and messages.EVALUATE_TRIGGERS in runtime.broker.actors:
        queued: list[QueuedEvent] = list(events)
        runtime.broker.enqueue(messages.evaluate_triggers(queued))


def queue_action_runs(runtime: ActorRuntime, action_run_ids: list[uuid.UUID]) -> None:
    """Queue `run_automation_actions` messages of at most ACTION_BATCH_SIZE runs each."""
    ids = [str(each) for each in action_run_ids]
    for start in range(0, len(ids), ACTION_BATCH_SIZE):
        runtime.broker.enqueue(messages.run_automation_actions(ids[start : start + ACTION_BATCH_SIZE]))


async def resume_stalled_actions(runtime: ActorRuntime) -> NothingDue | None:
    """Periodic job: queue again the action runs left unfinished (lost message, dead process). With none unfinished,
    nothing is due before a write."""
    database = await runtime.database()
    async with database.read() as connection:
        if not await any_unfinished_action_runs(connection):
            return NothingDue()
        now = utcnow()
        stalled = await unfinished_action_run_ids(
            connection, now - STALLED_AFTER, running_older_than=now - stale_after(runtime.settings)
        )
    queue_action_runs(runtime, stalled)
    if stalled:
        logger.info("Queued %d stalled automation actions again", len(stalled))
    return None

"""Actors of notifications: match flow-run state changes against policies, deliver each match, summarise throttled
ones.

Delivery is at-least-once with a guard: a delivery row per (policy, state) records the outcome, and a delivery already
SENT is never sent again, whatever the queue redelivers. Failed attempts are retried with exponential backoff until
`notifications_max_attempts`, then the delivery is marked FAILED with the last error (visible through the API).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.notifications.templates import placeholder_values, render, render_subject
from baton.queue import messages
from baton.queue.messages import FlowRunStateChange
from baton.server.database.types import utcnow
from baton.server.models.notifications import notification_policies as model

if TYPE_CHECKING:
    import httpx

    from baton.notifications.channels import Notification, Severity
    from baton.settings import Settings

# The channels (and httpx under them) load on the first delivery: an idle server does not pay for them.

logger = logging.getLogger("baton.notifications")

# A SENDING delivery older than this is taken to belong to a worker that died mid-send, and is tried again.
STALE_SENDING = dt.timedelta(seconds=60)
SEVERITY: dict[str, Severity] = {
    "FAILED": "failure",
    "CRASHED": "failure",
    "COMPLETED": "success",
    "CANCELLED": "warning",
}


async def match_notifications(runtime: ActorRuntime, changes: list[FlowRunStateChange]) -> None:
    """One delivery per active policy matching each state change; each waiting delivery is queued for sending.
    (State changes are matched where their events are recorded, `emit_flow_run_events`; this message is still
    accepted from a queue that holds some.)"""
    database = await runtime.database()
    async with database.write() as connection:
        waiting = await match_changes(connection, changes)
    queue_deliveries(runtime, waiting)


async def match_changes(connection: AsyncConnection, changes: list[FlowRunStateChange]) -> list[uuid.UUID]:
    """Record a delivery per active policy matching each state change, in the caller's transaction; the ids of the
    deliveries waiting to be sent (queue them with `queue_deliveries` once the transaction has committed)."""
    policies = await model.read_active_policies(connection)
    if not policies:
        return []
    states = await model.read_states_with_runs(connection, [uuid.UUID(change["state_id"]) for change in changes])
    matches = [
        {"policy_id": found["id"], "flow_run_id": state["flow_run_id"], "flow_run_state_id": state["state_id"]}
        for state in states
        for found in policies
        if model.policy_matches(found, state["state_name"], state["tags"] or [])
    ]
    return await model.add_deliveries(connection, matches)


def notification_for(subject: dict[str, Any], settings: Settings) -> Notification:
    from baton.notifications.channels import Notification

    values = placeholder_values(
        policy_id=subject["policy"]["id"],
        flow=subject["flow"],
        run=subject["run"],
        state=subject["state"],
        ui_url=settings.effective_ui_url,
        time_zone=settings.notifications_time_zone,
    )
    return Notification(
        subject=render_subject(values),
        body=render(subject["policy"]["message_template"], values),
        severity=SEVERITY.get(subject["state"]["type"], "info"),
        run_url=values["flow_run_url"],
    )


async def send(subject: dict[str, Any], notification: Notification, settings: Settings, http: httpx.AsyncClient) -> Any:
    """Send through the channel of the policy's target; raises DeliveryFailed."""
    from baton.notifications.channels import channel_for

    document = subject["document"]
    slug = document["block_type"]["slug"] if document.get("block_type") else document["block_type_slug"]
    return await channel_for(slug).send(document["data"], notification, http, settings)


# Deliveries per `deliver_notifications` message, and requests a worker has in flight at once.
DELIVERY_BATCH_SIZE = 50
SEND_CONCURRENCY = 16


async def deliver_notifications(runtime: ActorRuntime, delivery_ids: list[str]) -> None:
    """Claim, render and send a batch of deliveries, then record every outcome.

    Two short write transactions per batch: the claim (one UPDATE ... RETURNING, plus the throttle's decision) and the
    outcomes (one executemany); what a delivery needs to be rendered is read outside the write lock, which SQLite's
    writers all share. A burst of state changes thus costs a few statements per batch, not several per message."""
    settings = runtime.settings
    database = await runtime.database()
    now = utcnow()
    throttle = settings.notifications_throttle_seconds
    async with database.write() as connection:
        claimed = await model.claim_deliveries(connection, [uuid.UUID(i) for i in delivery_ids], now, STALE_SENDING)
        if not claimed:
            return
        held_back: dict[uuid.UUID, uuid.UUID] = {}
        if throttle > 0:
            await model.lock_throttle_windows(connection, claimed)
            state_names = await model.read_state_names(connection, claimed)
            opened = await model.first_sent_since(connection, claimed, now - dt.timedelta(seconds=throttle))
            held_back = _held_back_by_throttle(claimed, state_names, opened)
        folded_counts = await _fold(connection, held_back)
    to_send = [row for row in claimed if row["id"] not in held_back]
    for first, folded in folded_counts.items():
        if folded == sum(1 for opener in held_back.values() if opener == first):
            # This batch held back the window's first message: the window's summary goes out when it closes.
            runtime.broker.enqueue(messages.send_notification_summary(str(first)), delay=int(throttle * 1000))
    if not to_send:
        return
    async with database.read() as connection:
        subjects = await model.read_delivery_subjects(connection, to_send, runtime.cipher())
    gone = [row["id"] for row in to_send if subjects[row["id"]] is None]
    if gone:
        async with database.write() as connection:
            error = "The policy, run or target was deleted before sending."
            await model.finish_deliveries(connection, [{"id": i, "status": "FAILED", "error": error} for i in gone])
    await _attempt_all(runtime, [row for row in to_send if subjects[row["id"]] is not None], subjects)


async def _fold(connection: AsyncConnection, held_back: dict[uuid.UUID, uuid.UUID]) -> dict[uuid.UUID, int]:
    """Mark the held-back deliveries FOLDED; how many deliveries each of their windows has folded so far."""
    if not held_back:
        return {}
    await model.finish_deliveries(connection, [{"id": i, "status": "FOLDED"} for i in held_back])
    return {first: (await model.count_folded_since(connection, first))[0] for first in set(held_back.values())}


def _held_back_by_throttle(
    claimed: list[dict[str, Any]],
    state_names: dict[uuid.UUID, str],
    opened: dict[tuple[uuid.UUID, uuid.UUID, str], uuid.UUID],
) -> dict[uuid.UUID, uuid.UUID]:
    """The claimed deliveries the throttle holds back: {delivery id: the id of the message that opened its window}.
    Within the batch, the oldest delivery of a (policy, run, state name) opens the window for the later ones, as if
    they had been sent one after another."""
    held_back: dict[uuid.UUID, uuid.UUID] = {}
    for row in claimed:  # oldest first
        name = state_names.get(row["flow_run_state_id"])
        if name is None:
            continue  # the state was deleted; the delivery fails when its subject is read
        key = (row["policy_id"], row["flow_run_id"], name)
        if key in opened:
            held_back[row["id"]] = opened[key]
        else:
            opened[key] = row["id"]
    return held_back


async def _attempt_all(
    runtime: ActorRuntime, claimed: list[dict[str, Any]], subjects: dict[uuid.UUID, dict[str, Any] | None]
) -> None:
    """Send each claimed delivery (at most SEND_CONCURRENCY requests at once), record all outcomes in one
    transaction, and queue the retries."""
    from baton.notifications.channels import DeliveryFailed

    if not claimed:
        return
    settings = runtime.settings
    http = await runtime.http_client()
    gate = asyncio.Semaphore(SEND_CONCURRENCY)

    async def attempt(row: dict[str, Any]) -> dict[str, Any]:
        subject = subjects[row["id"]]
        assert subject is not None
        async with gate:
            try:
                result = await send(subject, notification_for(subject, settings), settings, http)
            except DeliveryFailed as failure:
                last = row["attempts"] >= settings.notifications_max_attempts or not failure.retryable
                if last:
                    logger.warning("Notification %s failed after %d attempts: %s", row["id"], row["attempts"], failure)
                return {
                    "id": row["id"],
                    "status": "FAILED" if last else "RETRYING",
                    "response_code": failure.status_code,
                    "error": str(failure)[:2000],
                    "attempts": row["attempts"],
                }
        return {"id": row["id"], "status": "SENT", "sent_at": utcnow(), "response_code": result.status_code}

    outcomes = await asyncio.gather(*(attempt(row) for row in claimed))
    database = await runtime.database()
    async with database.write() as connection:
        await model.finish_deliveries(connection, outcomes)
    for outcome in outcomes:
        if outcome["status"] == "RETRYING":
            backoff = settings.notifications_retry_backoff_seconds * 2 ** (outcome["attempts"] - 1)
            runtime.broker.enqueue(messages.deliver_notifications([str(outcome["id"])]), delay=int(backoff * 1000))


def queue_deliveries(runtime: ActorRuntime, delivery_ids: list[uuid.UUID]) -> None:
    """Queue `deliver_notifications` messages of at most DELIVERY_BATCH_SIZE deliveries each, so a burst is spread
    over the actor threads and processes instead of waiting behind one long batch."""
    ids = [str(i) for i in delivery_ids]
    for start in range(0, len(ids), DELIVERY_BATCH_SIZE):
        runtime.broker.enqueue(messages.deliver_notifications(ids[start : start + DELIVERY_BATCH_SIZE]))


async def send_notification_summary(runtime: ActorRuntime, first_delivery_id: str) -> None:
    """At the end of a throttle window: one message saying how many more times the run entered the state."""
    settings = runtime.settings
    database = await runtime.database()
    async with database.read() as connection:
        folded, first = await model.count_folded_since(connection, uuid.UUID(first_delivery_id))
        subject = await model.read_delivery_subject(connection, first, runtime.cipher()) if first and folded else None
    if subject is None:
        return
    from baton.notifications.channels import DeliveryFailed

    notification = notification_for(subject, settings)
    summary = (
        f"{folded} more state change{'s' if folded != 1 else ''} of {subject['run']['name']} matching this policy "
        f"within {settings.notifications_throttle_seconds:g} s were not sent separately.\n\n{notification.body}"
    )
    notification = dataclasses.replace(notification, body=summary)
    try:
        await send(subject, notification, settings, await runtime.http_client())
    except DeliveryFailed as failure:
        logger.warning("The summary of %d throttled notifications could not be sent: %s", folded, failure)


# A delivery waiting this long has lost its message (the longest retry backoff under the defaults is 16 s).
STALLED_AFTER = dt.timedelta(minutes=2)


async def resume_stalled_deliveries(runtime: ActorRuntime) -> NothingDue | None:
    """Periodic job: queue again the deliveries whose message was lost, so none waits forever. With none unfinished,
    nothing is due before a write."""
    database = await runtime.database()
    async with database.read() as connection:
        if not await model.any_unfinished_deliveries(connection):
            return NothingDue()
        stalled = await model.read_stalled_deliveries(connection, utcnow() - STALLED_AFTER, 500)
    queue_deliveries(runtime, stalled)
    if stalled:
        logger.info("Queued %d stalled notification deliveries again", len(stalled))
    return None

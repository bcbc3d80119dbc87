"""Actors of notifications: match flow-run state changes against policies, deliver each match, summarise throttled
ones.

Delivery is at-least-once with a guard: a delivery row per (policy, state) records the outcome, and a delivery already
SENT is never sent again, whatever the queue redelivers. Failed attempts are retried with exponential backoff until
`notifications_max_attempts`, then the delivery is marked FAILED with the last error (visible through the API).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from typing import TYPE_CHECKING, Any

from baton.actors import runtime
from baton.notifications.templates import placeholder_values, render, render_subject
from baton.queue import messages
from baton.queue.messages import FlowRunStateChange
from baton.server.database.types import utcnow
from baton.server.models import notifications as model

if TYPE_CHECKING:
    import httpx

    from baton.notifications.channels import Notification

# The channels (and httpx under them) load on the first delivery: an idle server does not pay for them.

logger = logging.getLogger("baton.notifications")

# A SENDING delivery older than this is taken to belong to a worker that died mid-send, and is tried again.
STALE_SENDING = dt.timedelta(seconds=60)
SEVERITY = {"FAILED": "failure", "CRASHED": "failure", "COMPLETED": "success", "CANCELLED": "warning"}


async def match_notifications(changes: list[FlowRunStateChange]) -> None:
    """One delivery per active policy matching each state change; each waiting delivery is queued for sending."""
    database = await runtime.database()
    async with database.write() as connection:
        policies = await model.read_active_policies(connection)
        if not policies:
            return
        states = await model.read_states_with_runs(connection, [uuid.UUID(change["state_id"]) for change in changes])
        matches = [
            {"policy_id": found["id"], "flow_run_id": state["flow_run_id"], "flow_run_state_id": state["state_id"]}
            for state in states
            for found in policies
            if model.policy_matches(found, state["state_name"], state["tags"] or [])
        ]
        waiting = await model.add_deliveries(connection, matches)
    for delivery_id in waiting:
        runtime.broker().enqueue(messages.deliver_notification(str(delivery_id)))


def notification_for(subject: dict[str, Any], settings: Any) -> Notification:
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


async def send(subject: dict[str, Any], notification: Notification, settings: Any, http: httpx.AsyncClient) -> Any:
    """Send through the channel of the policy's target; raises DeliveryFailed."""
    from baton.notifications.channels import channel_for

    document = subject["document"]
    slug = document["block_type"]["slug"] if document.get("block_type") else document["block_type_slug"]
    return await channel_for(slug).send(document["data"], notification, http, settings)


async def deliver_notification(delivery_id: str) -> None:
    settings = runtime.settings()
    database = await runtime.database()
    target = uuid.UUID(delivery_id)
    now = utcnow()
    async with database.write() as connection:
        claimed = await model.claim_delivery(connection, target, now, STALE_SENDING)
        if claimed is None:
            return
        subject = await model.read_delivery_subject(connection, claimed, runtime.cipher())
        if subject is None:
            await model.finish_delivery(
                connection, target, status="FAILED", error="The policy, run or target was deleted before sending."
            )
            return
        throttle = settings.notifications_throttle_seconds
        first = None
        if throttle > 0:
            since = now - dt.timedelta(seconds=throttle)
            first = await model.sent_recently(connection, claimed, subject["state"]["name"], since)
        if first is not None:
            await model.finish_delivery(connection, target, status="FOLDED")
            folded, _ = await model.count_folded_since(connection, first)
    if first is not None:
        if folded == 1:  # the first message held back in this window schedules the window's summary
            runtime.broker().enqueue(messages.send_notification_summary(str(first)), delay=int(throttle * 1000))
        return
    await _attempt(target, claimed["attempts"], subject, settings)


async def _attempt(target: uuid.UUID, attempt: int, subject: dict[str, Any], settings: Any) -> None:
    from baton.notifications.channels import DeliveryFailed

    database = await runtime.database()
    try:
        result = await send(subject, notification_for(subject, settings), settings, await runtime.http_client())
    except DeliveryFailed as failure:
        last = attempt >= settings.notifications_max_attempts or not failure.retryable
        async with database.write() as connection:
            await model.finish_delivery(
                connection,
                target,
                status="FAILED" if last else "RETRYING",
                response_code=failure.status_code,
                error=str(failure)[:2000],
            )
        if last:
            logger.warning("Notification %s failed after %d attempts: %s", target, attempt, failure)
        else:
            backoff = settings.notifications_retry_backoff_seconds * 2 ** (attempt - 1)
            runtime.broker().enqueue(messages.deliver_notification(str(target)), delay=int(backoff * 1000))
        return
    async with database.write() as connection:
        await model.finish_delivery(
            connection, target, status="SENT", sent_at=utcnow(), response_code=result.status_code, error=None
        )


async def send_notification_summary(first_delivery_id: str) -> None:
    """At the end of a throttle window: one message saying how many more times the run entered the state."""
    settings = runtime.settings()
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


async def resume_stalled_deliveries() -> None:
    """Periodic job: queue again the deliveries whose message was lost, so none waits forever."""
    database = await runtime.database()
    async with database.read() as connection:
        stalled = await model.read_stalled_deliveries(connection, utcnow() - STALLED_AFTER, 500)
    for delivery_id in stalled:
        runtime.broker().enqueue(messages.deliver_notification(str(delivery_id)))
    if stalled:
        logger.info("Queued %d stalled notification deliveries again", len(stalled))

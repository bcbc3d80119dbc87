"""Actions that reach outside Baton: send-notification through one of Baton's notification channels (the same
code the notification policies deliver with), and call-webhook with a `webhook` block (Prefect's `Webhook`: method,
url, headers), the payload rendered as a template."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from baton.errors import BatonError
from baton.notifications.channels import Notification, Severity, UnknownChannel, channel_for
from baton.notifications.channels.transport import send_request
from baton.server.automations.actions.base import ActionContext, ActionFailed
from baton.server.automations.rendering import TemplateRenderFailed
from baton.server.database.engine import Database
from baton.server.models.blocks.block_documents import read_block_document
from baton.server.schemas.automations import CallWebhook, SendNotification

WEBHOOK_BLOCK_TYPE = "webhook"
WEBHOOK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Enough of the webhook's answer to tell what it said, as Prefect keeps it in the executed event.
RESPONSE_EXCERPT_CHARS = 1000
# The severity a channel shows (PagerDuty, Opsgenie, Teams), from the state of the flow run that fired.
SEVERITY: dict[str, Severity] = {
    "FAILED": "failure",
    "CRASHED": "failure",
    "COMPLETED": "success",
    "CANCELLED": "warning",
}


def _slug(document: Mapping[str, Any]) -> str:
    block_type = document.get("block_type")
    return str(block_type["slug"] if block_type else document.get("block_type_slug"))


async def _block_and_render(
    database: Database, context: ActionContext, block_document_id: uuid.UUID, templates: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """The block document (with its secrets) and the rendered templates, read in one read transaction."""
    async with database.read() as connection:
        document = await read_block_document(connection, block_document_id, context.cipher, include_secrets=True)
        if document is None:
            raise ActionFailed(f"Block document {block_document_id} was not found")
        context.target(f"prefect.block-document.{block_document_id}", role="block", name=document.get("name"))
        context.related.append(
            {"prefect.resource.id": f"prefect.block-type.{_slug(document)}", "prefect.resource.role": "block-type"}
        )
        try:
            rendered = await context.renderer.render(connection, templates)
        except TemplateRenderFailed as failure:
            context.details["template_error"] = str(failure.error)
            context.details["template_source"] = failure.template
            raise ActionFailed(str(failure)) from failure
    return document, rendered


def _severity(context: ActionContext) -> Severity:
    event = context.triggering_event or {}
    return SEVERITY.get(str((event.get("resource") or {}).get("prefect.state-type")), "info")


async def send_notification(database: Database, context: ActionContext, action: SendNotification) -> None:
    document, (subject, body) = await _block_and_render(
        database, context, action.block_document_id, [action.subject, action.body]
    )
    try:
        channel = channel_for(_slug(document))
    except UnknownChannel as exc:
        raise ActionFailed(f"The referenced block was not a notification block: {exc.message}") from None
    notification = Notification(subject=subject, body=body, severity=_severity(context))
    try:
        result = await channel.send(document["data"], notification, await context.http_client(), context.settings)
    except BatonError as exc:
        raise ActionFailed(f"Notification failed: {exc.message}") from None
    context.details["status_code"] = result.status_code


def _webhook_problems(data: Mapping[str, Any]) -> list[str]:
    problems = []
    if not isinstance(data.get("url"), str) or not data["url"].strip():
        problems.append("url must be a URL")
    if data.get("method", "POST") not in WEBHOOK_METHODS:
        problems.append(f"method must be one of {', '.join(WEBHOOK_METHODS)}")
    headers = data.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(isinstance(value, str) for value in headers.values()):
        problems.append("headers must map names to text")
    return problems


async def call_webhook(database: Database, context: ActionContext, action: CallWebhook) -> None:
    document, (payload,) = await _block_and_render(database, context, action.block_document_id, [action.payload])
    if _slug(document) != WEBHOOK_BLOCK_TYPE:
        raise ActionFailed(f"The referenced block was not a webhook block (its type is {_slug(document)!r})")
    data = document["data"]
    problems = _webhook_problems(data)
    if problems:
        raise ActionFailed("The webhook block was invalid: " + "; ".join(problems))
    url = data["url"].strip()
    headers = dict(data.get("headers") or {})
    try:
        result = await send_request(
            await context.http_client(),
            "the webhook",
            data.get("method") or "POST",
            url,
            headers=headers,
            content=payload.encode(),
            allow_private_urls=data.get("allow_private_urls", True),
            secrets=[url, *headers.values()],
        )
    except BatonError as exc:
        raise ActionFailed(f"Webhook call failed: {exc.message}") from None
    context.details["status_code"] = result.status_code
    context.details["response_body"] = result.response_excerpt[:RESPONSE_EXCERPT_CHARS]

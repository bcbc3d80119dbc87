"""Microsoft Teams through a Workflows (Power Automate) webhook or an incoming webhook: POST an Adaptive Card.

The body is a message with one Adaptive Card attachment, as documented in "Create and send messages"
(https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using): the subject in
bold, the body below it, and a button opening the run when there is a run URL. Workflows answer 202 Accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from baton.notifications.channels import checks
from baton.notifications.channels.base import DeliveryResult, Notification, ensure_valid
from baton.notifications.channels.transport import send_json
from baton.settings import Settings

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# Teams renders Adaptive Cards up to schema 1.5; 1.4 is the newest that Workflows' own templates use.
CARD_VERSION = "1.4"
SUBJECT_COLOR = {"success": "Good", "warning": "Warning", "failure": "Attention"}


def adaptive_card_message(notification: Notification, wrap: bool = True) -> dict[str, Any]:
    """The Teams message holding one Adaptive Card that shows `notification`."""
    heading: dict[str, Any] = {
        "type": "TextBlock",
        "text": notification.subject,
        "weight": "Bolder",
        "size": "Medium",
        "wrap": wrap,
    }
    if notification.severity in SUBJECT_COLOR:
        heading["color"] = SUBJECT_COLOR[notification.severity]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": [heading, {"type": "TextBlock", "text": notification.body, "wrap": wrap}],
    }
    if notification.run_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "View flow run", "url": notification.run_url}]
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


class TeamsChannel:
    """Posts the notification as an Adaptive Card to the block's Workflows URL."""

    slug = "ms-teams-webhook"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        return checks.web_url(data, "url")

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        url = data["url"].strip()
        payload = adaptive_card_message(notification, wrap=bool(data.get("wrap", True)))
        return await send_json(
            http,
            "Microsoft Teams",
            url,
            payload,
            secrets=[url],
            allow_private_urls=data.get("allow_private_urls", True),
        )

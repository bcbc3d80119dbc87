"""Slack incoming webhooks (https://api.slack.com/messaging/webhooks): POST {"text": ...} to the webhook URL.

The URL is the secret (hooks.slack.com or hooks.slack-gov.com); Slack answers 200 "ok", or 4xx with a short code
such as `invalid_payload`, `no_service` or `channel_is_archived`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from baton.notifications.channels import checks
from baton.notifications.channels.base import DeliveryResult, Notification, ensure_valid, truncate
from baton.notifications.channels.transport import send_json
from baton.settings import Settings

# Slack truncates a message's text after 40,000 characters.
MAX_TEXT_CHARS = 40_000


class SlackChannel:
    """Posts the subject and body as one plain-text message."""

    slug = "slack-webhook"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        return checks.web_url(data, "url") + checks.text(data, "channel", required=False)

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        payload: dict[str, Any] = {"text": truncate(notification.text, MAX_TEXT_CHARS)}
        if data.get("channel"):
            # Honoured by legacy webhooks only; app webhooks post to the channel they were created for.
            payload["channel"] = data["channel"]
        url = data["url"].strip()
        return await send_json(
            http, "Slack", url, payload, secrets=[url], allow_private_urls=data.get("allow_private_urls", True)
        )

"""Discord webhooks (https://discord.com/developers/docs/resources/webhook#execute-webhook).

POST {base}/api/webhooks/{webhook_id}/{webhook_token} with {"content", "tts", "username"?, "avatar_url"?};
Discord answers 204 No Content. The base is `notifications_discord_url` (https://discord.com).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from baton.notifications.channels import checks
from baton.notifications.channels.base import DeliveryResult, Notification, ensure_valid, truncate
from baton.notifications.channels.transport import send_json
from baton.settings import Settings

# Discord rejects a message whose content is longer than 2,000 characters.
MAX_CONTENT_CHARS = 2000


class DiscordChannel:
    """Posts the subject and body as the message content, as the webhook's user or `botname`."""

    slug = "discord-webhook"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        problems = checks.text(data, "webhook_id") + checks.text(data, "webhook_token")
        problems += checks.text(data, "botname", required=False) + checks.text(data, "avatar_url", required=False)
        if not checks.text(data, "webhook_id") and not data["webhook_id"].strip().isdigit():
            problems.append("webhook_id must be the number in the webhook URL (after /api/webhooks/)")
        return problems

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        webhook_id, token = data["webhook_id"].strip(), data["webhook_token"].strip()
        url = f"{settings.notifications_discord_url.rstrip('/')}/api/webhooks/{webhook_id}/{quote(token, safe='')}"
        payload: dict[str, Any] = {
            "content": truncate(notification.text, MAX_CONTENT_CHARS),
            "tts": bool(data.get("tts", False)),
        }
        if data.get("botname"):
            payload["username"] = data["botname"]
        if data.get("avatar_url"):
            payload["avatar_url"] = data["avatar_url"]
        return await send_json(http, "Discord", url, payload, secrets=[webhook_id, token])

"""Mattermost incoming webhooks (https://developers.mattermost.com/integrate/webhooks/incoming/).

POST http(s)://{hostname}:{port}{path}/hooks/{token} with {"text", "username"?, "channel"?}, once per channel in
`channels` (once without a channel when there is none); Mattermost answers 200 "ok".
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

# Mattermost's default maximum post length (MaxPostSize) is 16,383 characters.
MAX_TEXT_CHARS = 16_383


class MattermostChannel:
    """Posts the subject and body as plain text, to each listed channel or to the webhook's own channel."""

    slug = "mattermost-webhook"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        problems = checks.text(data, "hostname") + checks.text(data, "token")
        problems += checks.text(data, "botname", required=False) + checks.text(data, "path", required=False)
        problems += checks.text_list(data, "channels", what="channel name")
        if not checks.text(data, "hostname") and any(mark in data["hostname"] for mark in ("/", ":", "@", " ")):
            problems.append("hostname must be a host name only, without a scheme, port or path")
        port = data.get("port", 8065)
        if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
            problems.append("port must be a number from 1 to 65535")
        return problems

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        token = data["token"].strip()
        scheme = "https" if data.get("secure") else "http"
        port = data.get("port") or 8065
        path = "/" + (data.get("path") or "").strip("/") if (data.get("path") or "").strip("/") else ""
        url = f"{scheme}://{data['hostname'].strip()}:{port}{path}/hooks/{quote(token, safe='')}"
        base: dict[str, Any] = {"text": truncate(notification.text, MAX_TEXT_CHARS)}
        if data.get("botname"):
            base["username"] = data["botname"]
        result = DeliveryResult(status_code=None)
        for channel in data.get("channels") or [None]:
            payload = base if channel is None else {**base, "channel": channel}
            result = await send_json(http, "Mattermost", url, payload, secrets=[token])
        return result

"""Opsgenie alerts (https://docs.opsgenie.com/docs/alert-api#create-alert).

POST {base}/v2/alerts with `Authorization: GenieKey <apikey>` and {"message", "description", "priority",
"responders"?, "tags"?, "alias"?, "entity"?, "details"?}; Opsgenie answers 202 and creates the alert asynchronously.
The base is `notifications_opsgenie_url`, else https://api.opsgenie.com, or https://api.eu.opsgenie.com for the EU
region. Without `batch`, one alert is opened per responder, as Prefect's (Apprise's) block does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from baton.notifications.channels import checks
from baton.notifications.channels.base import DeliveryResult, Notification, ensure_valid, truncate
from baton.notifications.channels.transport import send_json
from baton.settings import Settings

REGION_URLS = {"us": "https://api.opsgenie.com", "eu": "https://api.eu.opsgenie.com"}
# Field limits from the Create Alert reference; longer values are truncated by Opsgenie or rejected.
MAX_MESSAGE_CHARS = 130
MAX_DESCRIPTION_CHARS = 15_000
MAX_RESPONDERS = 50
TARGETS = {
    "target_team": "team",
    "target_user": "user",
    "target_schedule": "schedule",
    "target_escalation": "escalation",
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def responders(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The Opsgenie responders of the block's targets: an id when it is a UUID, else a name (username for users)."""
    found: list[dict[str, str]] = []
    for field, kind in TARGETS.items():
        for target in data.get(field) or []:
            target = target.strip()
            key = "id" if UUID.match(target) else ("username" if kind == "user" else "name")
            found.append({"type": kind, key: target})
    return found


def tag_list(value: Any) -> list[str]:
    """Tags given as a list or as comma-separated text."""
    items = value.split(",") if isinstance(value, str) else (value or [])
    return [item.strip() for item in items if item.strip()]


class OpsgenieChannel:
    """Opens an alert whose message is the subject and whose description is the body."""

    slug = "opsgenie-webhook"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        problems = checks.text(data, "apikey") + checks.choice(data, "region_name", tuple(REGION_URLS))
        for field in TARGETS:
            problems += checks.text_list(data, field, what="name or id")
        if not isinstance(data.get("tags"), str):
            problems += checks.text_list(data, "tags", what="tag")
        problems += checks.choice(data, "priority", (1, 2, 3, 4, 5))
        problems += checks.text(data, "alias", required=False) + checks.text(data, "entity", required=False)
        return problems + checks.text_map(data, "details")

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        apikey = data["apikey"].strip()
        base = settings.notifications_opsgenie_url or REGION_URLS[data.get("region_name") or "us"]
        payload: dict[str, Any] = {
            "message": truncate(notification.subject or notification.body, MAX_MESSAGE_CHARS),
            "description": truncate(notification.body, MAX_DESCRIPTION_CHARS),
            # Prefect passes the block's 1-5 through as P1-P5 (P1 is Opsgenie's highest); so does Baton.
            "priority": f"P{data.get('priority') or 3}",
        }
        tags = tag_list(data.get("tags"))
        if tags:
            payload["tags"] = tags
        for field in ("alias", "entity"):
            if data.get(field):
                payload[field] = data[field]
        details = dict(data.get("details") or {})
        if notification.run_url:
            details.setdefault("run_url", notification.run_url)
        if details:
            payload["details"] = details
        targets = responders(data)
        size = MAX_RESPONDERS if data.get("batch") else 1
        groups = [targets[start : start + size] for start in range(0, len(targets), size)] or [[]]
        result = DeliveryResult(status_code=None)
        for group in groups:
            body = {**payload, "responders": group} if group else payload
            result = await send_json(
                http,
                "Opsgenie",
                f"{base.rstrip('/')}/v2/alerts",
                body,
                headers={"Authorization": f"GenieKey {apikey}"},
                secrets=[apikey],
            )
        return result

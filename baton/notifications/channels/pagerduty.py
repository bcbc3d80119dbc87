"""PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).

POST {base}/v2/enqueue with {"routing_key", "event_action": "trigger", "payload": {"summary", "severity", "source",
"component", "group"?, "class"?, "custom_details"}, "links"?}; PagerDuty answers 202. The integration key is the
routing key and travels in the body; the Events API takes no Authorization header, so the block's `api_key` is not
sent. The base is `notifications_pagerduty_url`, else https://events.pagerduty.com (events.eu.pagerduty.com for EU).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from baton.notifications.channels import checks
from baton.notifications.channels.base import DeliveryResult, Notification, ensure_valid, truncate
from baton.notifications.channels.transport import send_json
from baton.settings import Settings

REGION_URLS = {"us": "https://events.pagerduty.com", "eu": "https://events.eu.pagerduty.com"}
# As Prefect's block (through Apprise) maps its notify types.
SEVERITY = {"info": "info", "success": "info", "warning": "warning", "failure": "critical"}
# The Events API rejects a summary longer than 1,024 characters.
MAX_SUMMARY_CHARS = 1024


class PagerDutyChannel:
    """Triggers an alert whose summary is the subject; the body is in the custom details."""

    slug = "pager-duty-webhook"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        problems = checks.text(data, "integration_key") + checks.choice(data, "region_name", tuple(REGION_URLS))
        for field in ("source", "component", "group", "class_id"):
            problems += checks.text(data, field, required=False)
        if data.get("clickable_url") is not None:
            problems += checks.web_url(data, "clickable_url", https_only=False)
        return problems + checks.text_map(data, "custom_details")

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        key = data["integration_key"].strip()
        base = settings.notifications_pagerduty_url or REGION_URLS[data.get("region_name") or "us"]
        event: dict[str, Any] = {
            "summary": truncate(notification.subject or notification.body, MAX_SUMMARY_CHARS),
            "severity": SEVERITY[notification.severity],
            "source": data.get("source") or "Baton",
            "component": data.get("component") or "Notification",
        }
        if data.get("group"):
            event["group"] = data["group"]
        if data.get("class_id"):
            event["class"] = data["class_id"]
        event["custom_details"] = {**(data.get("custom_details") or {}), "body": notification.body}
        payload: dict[str, Any] = {"routing_key": key, "event_action": "trigger", "payload": event}
        links = [url for url in (notification.run_url, data.get("clickable_url")) if url]
        if links:
            payload["links"] = [{"href": url} for url in dict.fromkeys(links)]
        return await send_json(http, "PagerDuty", f"{base.rstrip('/')}/v2/enqueue", payload, secrets=[key])

"""SendGrid Mail Send v3 (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send).

POST {base}/v3/mail/send with `Authorization: Bearer <api_key>` and {"personalizations": one per recipient,
"from", "subject", "content": [text/plain]}; SendGrid answers 202 with an empty body. One personalization per
recipient sends each their own copy, so recipients do not see each other's addresses (as Prefect's block, which
sends one email per recipient). The base is `notifications_sendgrid_url`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from baton.notifications.channels import checks
from baton.notifications.channels.base import DeliveryResult, Notification, ensure_valid
from baton.notifications.channels.transport import send_json
from baton.settings import Settings

# SendGrid's limit of personalizations (so recipients) in one request.
MAX_PERSONALIZATIONS = 1000


def address_problems(data: Mapping[str, Any], field: str) -> list[str]:
    """Problems of an email address field: missing, or not of the form name@domain."""
    problems = checks.text(data, field)
    if not problems and not looks_like_email(data[field]):
        problems.append(f"{field} must be an email address")
    return problems


def looks_like_email(text: str) -> bool:
    """Whether `text` has the shape of an address (the server decides the rest)."""
    local, at, domain = text.strip().rpartition("@")
    return bool(local and at and domain and " " not in text.strip())


class SendGridChannel:
    """Sends a plain-text email with the subject and body to every recipient."""

    slug = "sendgrid-email"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        problems = checks.text(data, "api_key") + address_problems(data, "sender_email")
        listed = checks.text_list(data, "to_emails", required=True, what="email address")
        if not listed and not all(looks_like_email(item) for item in data["to_emails"]):
            listed.append("to_emails must be a list of email addresses")
        if not listed and len(set(data["to_emails"])) > MAX_PERSONALIZATIONS:
            listed.append(f"to_emails may list at most {MAX_PERSONALIZATIONS} addresses")
        return problems + listed

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        api_key = data["api_key"].strip()
        recipients = dict.fromkeys(address.strip() for address in data["to_emails"])
        payload = {
            "personalizations": [{"to": [{"email": address}]} for address in recipients],
            "from": {"email": data["sender_email"].strip()},
            "subject": notification.subject,
            "content": [{"type": "text/plain", "value": notification.body or notification.subject}],
        }
        return await send_json(
            http,
            "SendGrid",
            f"{settings.notifications_sendgrid_url.rstrip('/')}/v3/mail/send",
            payload,
            headers={"Authorization": f"Bearer {api_key}"},
            secrets=[api_key],
        )

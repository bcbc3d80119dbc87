"""Twilio Programmable Messaging (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource).

POST {base}/2010-04-01/Accounts/{account_sid}/Messages.json, form-encoded To, From, Body, with HTTP basic auth
(account SID, auth token); one request per recipient; Twilio answers 201 Created. Numbers are sent in E.164 form
("+" and digits), as Prefect's block does; a 5-6 digit sender is a short code and is sent as it is.
The base is `notifications_twilio_url`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from baton.notifications.channels import checks
from baton.notifications.channels.base import DeliveryResult, Notification, ensure_valid, truncate
from baton.notifications.channels.transport import send_request
from baton.settings import Settings

# Twilio rejects a message body longer than 1,600 characters.
MAX_BODY_CHARS = 1600
SEPARATORS = re.compile(r"[\s\-().]")


def phone_number(text: str, *, short_code_allowed: bool = False) -> str | None:
    """The E.164 form of a phone number (a short code unchanged when allowed); None when it is not one."""
    digits = SEPARATORS.sub("", text).removeprefix("+")
    if not digits.isdigit():
        return None
    if short_code_allowed and len(digits) in (5, 6):
        return digits
    # E.164 numbers have at most 15 digits; fewer than 10 cannot hold a country code and a subscriber number.
    return f"+{digits}" if 10 <= len(digits) <= 15 else None


class TwilioChannel:
    """Sends the subject and body as one text message to each number."""

    slug = "twilio-sms"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        problems = checks.text(data, "account_sid") + checks.text(data, "auth_token")
        problems += checks.text(data, "from_phone_number")
        if not problems and phone_number(data["from_phone_number"], short_code_allowed=True) is None:
            problems.append("from_phone_number must be a phone number with its country code, or a short code")
        listed = checks.text_list(data, "to_phone_numbers", required=True, what="phone number")
        if not listed and any(phone_number(number) is None for number in data["to_phone_numbers"]):
            listed.append("to_phone_numbers must be phone numbers with their country codes, e.g. +15558675310")
        return problems + listed

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        sid, token = data["account_sid"].strip(), data["auth_token"].strip()
        url = f"{settings.notifications_twilio_url.rstrip('/')}/2010-04-01/Accounts/{quote(sid, safe='')}/Messages.json"
        sender = phone_number(data["from_phone_number"], short_code_allowed=True)
        body = truncate(notification.text, MAX_BODY_CHARS)
        result = DeliveryResult(status_code=None)
        for recipient in dict.fromkeys(phone_number(number) for number in data["to_phone_numbers"]):
            result = await send_request(
                http,
                "Twilio",
                "POST",
                url,
                data={"To": recipient, "From": sender, "Body": body},
                auth=httpx.BasicAuth(sid, token),
                secrets=[token],
            )
        return result

"""Custom webhooks: the request the block describes, with placeholders filled in, as Prefect's
`CustomWebhookNotificationBlock` sends it.

`{{subject}}`, `{{body}}`, `{{name}}` and `{{<key of secrets>}}` are replaced in the values (not the keys) of `url`,
`params`, `json_data`, `form_data`, `headers` and `cookies`. A value that is exactly one placeholder takes the
value itself (a secret may be a number or an object inside `json_data`); otherwise each placeholder becomes text.
Any other placeholder makes the block invalid. A dict `form_data` is sent form-encoded, a text one as the raw body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from baton.notifications.channels import checks
from baton.notifications.channels.base import DEFAULT_TIMEOUT_SECONDS, DeliveryResult, Notification, ensure_valid
from baton.notifications.channels.transport import send_request
from baton.settings import Settings

# The placeholder syntax of Prefect's templating (`prefect.utilities.templating`), so the same blocks work.
PLACEHOLDER = re.compile(r"({{\s*([\w\.\-\[\]$]+)\s*}})")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
TEMPLATED_FIELDS = ("url", "params", "json_data", "form_data", "headers", "cookies")
CONTEXT_KEYS = ("subject", "body", "name")


def placeholders(template: Any) -> set[str]:
    """The names of the placeholders in the string values of `template`, at any depth."""
    if isinstance(template, str):
        return {name for _, name in PLACEHOLDER.findall(template)}
    if isinstance(template, Mapping):
        return set().union(*(placeholders(value) for value in template.values()))
    if isinstance(template, list):
        return set().union(*(placeholders(item) for item in template))
    return set()


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """`template` with its placeholders replaced by `values` (all known: `validate` checked them)."""
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole is not None:
            return values[whole.group(2)]
        # One pass over the template, so that a filled-in value is never read as a placeholder itself.
        return PLACEHOLDER.sub(lambda match: str(values[match.group(2)]), template)
    if isinstance(template, Mapping):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    return template


def as_text(mapping: Mapping[str, Any] | None) -> dict[str, str] | None:
    """A filled-in mapping for headers, params or cookies, whose values must be text."""
    return None if mapping is None else {key: str(value) for key, value in mapping.items()}


def secret_values(secrets: Any) -> list[str]:
    """Every text leaf of the block's secrets, to keep them out of error messages."""
    if isinstance(secrets, Mapping):
        return [leaf for value in secrets.values() for leaf in secret_values(value)]
    if isinstance(secrets, list):
        return [leaf for item in secrets for leaf in secret_values(item)]
    return [str(secrets)] if secrets is not None and not isinstance(secrets, bool) else []


class CustomWebhookChannel:
    """Sends the block's own request after filling in the subject, body, name and secrets."""

    slug = "custom-webhook"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        problems = checks.text(data, "name") + checks.web_url(data, "url", https_only=False)
        problems += checks.choice(data, "method", METHODS)
        for field in ("params", "headers", "cookies"):
            problems += checks.text_map(data, field)
        if data.get("json_data") is not None and not isinstance(data["json_data"], Mapping):
            problems.append("json_data must be a JSON object")
        if data.get("form_data") is not None and not isinstance(data["form_data"], str):
            problems += checks.text_map(data, "form_data")
        if data.get("json_data") is not None and data.get("form_data") is not None:
            problems.append("json_data and form_data cannot both be set; choose one body")
        timeout = data.get("timeout", DEFAULT_TIMEOUT_SECONDS)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            problems.append("timeout must be a number of seconds greater than 0")
        secrets = data.get("secrets") or {}
        if not isinstance(secrets, Mapping):
            return [*problems, "secrets must map names to values"]
        allowed = {*CONTEXT_KEYS, *secrets}
        for field in TEMPLATED_FIELDS:
            for name in sorted(placeholders(data.get(field)) - allowed):
                problems.append(
                    f"{field} uses the placeholder {{{{{name}}}}}, which is not subject, body, name or a key of secrets"
                )
        return problems

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        secrets = dict(data.get("secrets") or {})
        values = {**secrets, "subject": notification.subject, "body": notification.body, "name": data["name"]}
        request: dict[str, Any] = {"params": as_text(fill(data.get("params"), values))}
        headers = as_text(fill(data.get("headers"), values)) or {}
        cookies = as_text(fill(data.get("cookies"), values))
        if cookies:
            # httpx deprecates per-request cookies; the header is what they would become.
            headers = {**headers, "Cookie": "; ".join(f"{key}={value}" for key, value in cookies.items())}
        if data.get("json_data") is not None:
            request["json"] = fill(data["json_data"], values)
        form = fill(data.get("form_data"), values)
        if isinstance(form, str):
            request["content"] = form.encode()
        elif form is not None:
            request["data"] = as_text(form)
        url = str(fill(data["url"].strip(), values))
        return await send_request(
            http,
            f"the webhook {data['name']!r}",
            data.get("method") or "POST",
            url,
            headers=headers,
            timeout_seconds=float(data.get("timeout") or DEFAULT_TIMEOUT_SECONDS),
            allow_private_urls=data.get("allow_private_urls", True),
            secrets=secret_values(secrets),
            **request,
        )

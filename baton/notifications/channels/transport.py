"""One HTTP request to a service, and its outcome as a `DeliveryResult` or a `DeliveryFailed` free of secrets."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from baton.notifications.channels.base import DEFAULT_TIMEOUT_SECONDS, EXCERPT_CHARS, DeliveryFailed, DeliveryResult
from baton.notifications.channels.checks import is_public_address

USER_AGENT = "Baton Notifications"
REDACTED = "********"
# Timeouts and rate limits pass; other client errors mean the request itself is wrong and will stay wrong.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


def json_body(payload: Any) -> bytes:
    """`payload` as compact UTF-8 JSON, the exact bytes a channel sends."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every secret value replaced by a mask."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def sentence(service: str) -> str:
    """`service` as the start of a sentence."""
    return service[:1].upper() + service[1:]


def is_retryable(status_code: int) -> bool:
    """Whether a failed request answered with `status_code` may succeed when sent again."""
    return status_code >= 500 or status_code in RETRYABLE_CLIENT_ERRORS


async def refuse_private_address(service: str, url: str) -> None:
    """Raise a non-retryable DeliveryFailed when the URL's host resolves to a non-public address.

    A best-effort check (the address is looked up again when connecting), as Prefect's `allow_private_urls=False`.
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        raise DeliveryFailed(f"The host name of the {service} URL could not be resolved.") from None
    if not infos or not all(is_public_address(str(info[4][0])) for info in infos):
        raise DeliveryFailed(
            f"The {service} URL points to a private or loopback address, which the block does not allow "
            "(allow_private_urls is false).",
            retryable=False,
        )


async def send_request(
    http: httpx.AsyncClient,
    service: str,
    method: str,
    url: str,
    *,
    secrets: Iterable[str | None] = (),
    headers: Mapping[str, str] | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    allow_private_urls: bool = True,
    **request: Any,
) -> DeliveryResult:
    """Send one request; a 2xx answer is a DeliveryResult, anything else a DeliveryFailed naming `service`."""
    secrets = [secret for secret in secrets if secret]
    if not allow_private_urls:
        await refuse_private_address(service, url)
    merged = httpx.Headers({"User-Agent": USER_AGENT})
    merged.update(headers or {})
    try:
        response = await http.request(method, url, headers=merged, timeout=timeout_seconds, **request)
    except httpx.TimeoutException:
        raise DeliveryFailed(f"{sentence(service)} did not answer within {timeout_seconds:g} s.") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # The exception text may hold the URL, whose path is a secret for webhooks.
        detail = redact(str(exc) or type(exc).__name__, [url, *secrets])
        raise DeliveryFailed(f"Could not reach {service}: {detail}") from None
    excerpt = redact(response.text[:EXCERPT_CHARS], [url, *secrets])
    if response.is_success:
        return DeliveryResult(status_code=response.status_code, response_excerpt=excerpt)
    answer = f"{response.status_code} {response.reason_phrase}".strip()
    raise DeliveryFailed(
        f"{sentence(service)} answered {answer}" + (f": {excerpt}" if excerpt else "."),
        status_code=response.status_code,
        retryable=is_retryable(response.status_code),
    )


async def send_json(
    http: httpx.AsyncClient,
    service: str,
    url: str,
    payload: Any,
    *,
    headers: Mapping[str, str] | None = None,
    **kw: Any,
) -> DeliveryResult:
    """POST `payload` as JSON (see `json_body`) with `send_request`."""
    merged = {"Content-Type": "application/json", **(headers or {})}
    return await send_request(http, service, "POST", url, content=json_body(payload), headers=merged, **kw)

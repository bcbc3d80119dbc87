"""The channel registry, how failed deliveries are classified, what `validate` says, and the in-memory channel."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from baton.errors import ValidationFailed
from baton.notifications.channels import CHANNELS, DeliveryFailed, UnknownChannel, channel_for
from baton.notifications.channels.memory import MemoryChannel
from baton.server.blocks.system import SYSTEM_BLOCKS_BY_SLUG
from baton.settings import Settings
from tests.notifications.conftest import FAILED, FakeService


def test_every_notify_block_type_has_a_channel() -> None:
    notify = {slug for slug, block in SYSTEM_BLOCKS_BY_SLUG.items() if "notify" in block.capabilities}
    assert notify | {"email-server-credentials"} == set(CHANNELS)
    assert all(channel.slug == slug for slug, channel in CHANNELS.items())


def test_channel_for_a_block_type_that_cannot_notify() -> None:
    assert channel_for("slack-webhook").slug == "slack-webhook"
    with pytest.raises(UnknownChannel, match="Block type 'secret' cannot send notifications") as caught:
        channel_for("secret")
    assert isinstance(caught.value, ValidationFailed)


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False)]
)
async def test_an_error_status_fails_the_delivery(
    status: int, retryable: bool, service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    service.status, service.reply = status, "no_service"
    url = f"{service.url}/services/T0/B0/s3cr3tToken"

    with pytest.raises(DeliveryFailed) as caught:
        await CHANNELS["slack-webhook"].send({"url": url}, FAILED, http, settings)

    assert (caught.value.status_code, caught.value.retryable) == (status, retryable)
    assert str(caught.value).startswith(f"Slack answered {status} ")
    assert str(caught.value).endswith(": no_service")
    assert len(service.requests) == 1


async def test_an_error_message_never_holds_a_secret(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    service.status, service.reply = 401, "Invalid key eb243592faa2 for GenieKey"
    with pytest.raises(DeliveryFailed) as caught:
        await CHANNELS["opsgenie-webhook"].send({"apikey": "eb243592faa2"}, FAILED, http, settings)
    assert str(caught.value) == "Opsgenie answered 401 Unauthorized: Invalid key ******** for GenieKey"
    assert caught.value.retryable is False


async def test_the_response_excerpt_is_capped(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    service.reply = "y" * 5000
    result = await CHANNELS["slack-webhook"].send({"url": f"{service.url}/hook"}, FAILED, http, settings)
    assert result.response_excerpt == "y" * 500


async def test_a_refused_connection_is_retryable(http: httpx.AsyncClient, settings: Settings) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    data = {"url": f"http://127.0.0.1:{port}/services/T0/B0/s3cr3tToken"}

    with pytest.raises(DeliveryFailed, match="^Could not reach Slack: ") as caught:
        await CHANNELS["slack-webhook"].send(data, FAILED, http, settings)

    assert (caught.value.status_code, caught.value.retryable) == (None, True)
    assert "s3cr3tToken" not in str(caught.value)


async def test_a_slow_service_times_out_retryably(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    service.delay = 1.0
    data = {"name": "slow", "url": f"{service.url}/slow", "timeout": 0.1}
    with pytest.raises(DeliveryFailed, match=r"^The webhook 'slow' did not answer within 0\.1 s\.$") as caught:
        await CHANNELS["custom-webhook"].send(data, FAILED, http, settings)
    assert caught.value.retryable is True


async def test_private_urls_are_refused_when_the_block_disallows_them(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = {"url": f"{service.url}/hook", "allow_private_urls": False}
    with pytest.raises(DeliveryFailed, match="private or loopback address") as caught:
        await CHANNELS["slack-webhook"].send(data, FAILED, http, settings)
    assert caught.value.retryable is False
    assert service.requests == []


@pytest.mark.parametrize(
    ("slug", "data", "problems"),
    [
        ("slack-webhook", {}, ["url is required"]),
        ("slack-webhook", {"url": "http://hooks.slack.com/services/x"}, ["url must be an https:// URL"]),
        ("ms-teams-webhook", {"url": "not a url"}, ["url must be an https:// URL"]),
        ("slack-webhook", {"url": "https://hooks.slack.com/services/T/B/x"}, []),
        (
            "discord-webhook",
            {"webhook_id": "abc", "webhook_token": ""},
            [
                "webhook_token is required",
                "webhook_id must be the number in the webhook URL (after /api/webhooks/)",
            ],
        ),
        (
            "mattermost-webhook",
            {"hostname": "https://chat.example.com", "token": "t", "port": 0},
            [
                "hostname must be a host name only, without a scheme, port or path",
                "port must be a number from 1 to 65535",
            ],
        ),
        (
            "opsgenie-webhook",
            {"apikey": "k", "region_name": "ap", "priority": 9},
            [
                "region_name must be one of us, eu",
                "priority must be one of 1, 2, 3, 4, 5",
            ],
        ),
        ("pager-duty-webhook", {"api_key": "k"}, ["integration_key is required"]),
        (
            "sendgrid-email",
            {"api_key": "k", "sender_email": "me", "to_emails": []},
            [
                "sender_email must be an email address",
                "to_emails must list at least one email address",
            ],
        ),
        (
            "twilio-sms",
            {"account_sid": "AC1", "auth_token": "t", "from_phone_number": "12", "to_phone_numbers": ["x"]},
            [
                "from_phone_number must be a phone number with its country code, or a short code",
                "to_phone_numbers must be phone numbers with their country codes, e.g. +15558675310",
            ],
        ),
        (
            "custom-webhook",
            {"name": "n", "url": "ftp://x", "json_data": {}, "form_data": "a", "timeout": 0},
            [
                "url must be an http:// or https:// URL",
                "json_data and form_data cannot both be set; choose one body",
                "timeout must be a number of seconds greater than 0",
            ],
        ),
    ],
)
def test_validate_explains_each_problem(slug: str, data: dict[str, Any], problems: list[str]) -> None:
    assert CHANNELS[slug].validate(data) == problems


async def test_an_invalid_block_is_not_sent_and_not_retried(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    with pytest.raises(DeliveryFailed) as caught:
        await CHANNELS["sendgrid-email"].send({"api_key": "k", "sender_email": "a@b.c"}, FAILED, http, settings)
    assert str(caught.value) == (
        "The sendgrid-email block cannot be used: to_emails must list at least one email address"
    )
    assert (caught.value.retryable, service.requests) == (False, [])


async def test_the_memory_channel_keeps_what_it_sends(http: httpx.AsyncClient, settings: Settings) -> None:
    channel = MemoryChannel()
    assert channel.slug not in CHANNELS

    await channel.send({"to": "x"}, FAILED, http, settings)
    channel.fail_with = DeliveryFailed("down", status_code=503)
    with pytest.raises(DeliveryFailed, match="down"):
        await channel.send({"to": "y"}, FAILED, http, settings)

    assert channel.sent == [({"to": "x"}, FAILED)]

"""Slack, Discord, Mattermost and Microsoft Teams against a recording server on loopback: the exact request."""

from __future__ import annotations

import json

import httpx

from baton.notifications.channels import CHANNELS, Notification
from baton.settings import Settings
from tests.notifications.conftest import FAILED, RUN_URL, FakeService, only_request


async def test_slack_posts_text_to_the_webhook_url(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = {"url": f"{service.url}/services/T0/B0/s3cr3tToken", "notify_type": "info", "allow_private_urls": True}

    result = await CHANNELS["slack-webhook"].send(data, FAILED, http, settings)

    request = only_request(service)
    assert (request.method, request.path, request.query) == ("POST", "/services/T0/B0/s3cr3tToken", "")
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == (
        b'{"text":"Run fuzzy-leopard failed\\nFlow run etl/fuzzy-leopard entered state `Failed`.\\n'
        b'http://baton.example.com/runs/flow-run/0b7a"}'
    )
    assert (result.status_code, result.response_excerpt) == (200, "ok")


async def test_slack_names_the_channel_when_the_block_has_one(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    notification = Notification(subject="Done", body="All good", severity="success")
    await CHANNELS["slack-webhook"].send(
        {"url": f"{service.url}/hook", "channel": "#ops"}, notification, http, settings
    )
    assert json.loads(only_request(service).body) == {"text": "Done\nAll good", "channel": "#ops"}


async def test_discord_posts_content_to_the_webhook_of_id_and_token(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    service.status, service.reply = 204, ""
    data = {
        "webhook_id": "417429632418316298",
        "webhook_token": "JHZ7lQml277CDHmQKMHI8qBe7bk2ZwO5UKjCiOAF",
        "botname": "Baton",
        "tts": False,
        "avatar": True,
        "avatar_url": "https://example.com/baton.png",
    }

    result = await CHANNELS["discord-webhook"].send(data, FAILED, http, settings)

    request = only_request(service)
    assert request.method == "POST"
    assert request.path == "/api/webhooks/417429632418316298/JHZ7lQml277CDHmQKMHI8qBe7bk2ZwO5UKjCiOAF"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "content": f"{FAILED.subject}\n{FAILED.body}\n{RUN_URL}",
        "tts": False,
        "username": "Baton",
        "avatar_url": "https://example.com/baton.png",
    }
    assert result.status_code == 204


async def test_mattermost_posts_once_per_channel_to_the_hooks_path(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    port = int(service.url.rsplit(":", 1)[1])
    data = {
        "hostname": "127.0.0.1",
        "port": port,
        "secure": False,
        "token": "yobjmukpaw3r3urc5h6i369yima",
        "path": "/chat/",
        "botname": "baton",
        "channels": ["ops", "alerts"],
    }

    await CHANNELS["mattermost-webhook"].send(data, FAILED, http, settings)

    assert [(r.method, r.path) for r in service.requests] == [("POST", "/chat/hooks/yobjmukpaw3r3urc5h6i369yima")] * 2
    text = FAILED.text
    assert [json.loads(r.body) for r in service.requests] == [
        {"text": text, "username": "baton", "channel": "ops"},
        {"text": text, "username": "baton", "channel": "alerts"},
    ]


async def test_mattermost_without_channels_posts_once(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = {"hostname": "127.0.0.1", "port": int(service.url.rsplit(":", 1)[1]), "token": "tok"}
    await CHANNELS["mattermost-webhook"].send(data, FAILED, http, settings)
    request = only_request(service)
    assert request.path == "/hooks/tok"
    assert json.loads(request.body) == {"text": FAILED.text}


async def test_teams_posts_an_adaptive_card(service: FakeService, http: httpx.AsyncClient, settings: Settings) -> None:
    service.status, service.reply = 202, ""
    url = f"{service.url}/workflows/WFID/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGNATURE"

    result = await CHANNELS["ms-teams-webhook"].send({"url": url, "wrap": True}, FAILED, http, settings)

    request = only_request(service)
    assert (request.method, request.path) == ("POST", "/workflows/WFID/triggers/manual/paths/invoke")
    assert request.query == "api-version=2016-06-01&sig=SIGNATURE"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": FAILED.subject,
                            "weight": "Bolder",
                            "size": "Medium",
                            "wrap": True,
                            "color": "Attention",
                        },
                        {"type": "TextBlock", "text": FAILED.body, "wrap": True},
                    ],
                    "actions": [{"type": "Action.OpenUrl", "title": "View flow run", "url": RUN_URL}],
                },
            }
        ],
    }
    assert result.status_code == 202

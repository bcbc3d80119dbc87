"""Opsgenie, PagerDuty, SendGrid and Twilio against a recording server on loopback: the exact request, and the
public API each uses by default."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from baton.notifications.channels import CHANNELS, Notification
from baton.settings import Settings
from tests.notifications.conftest import FAILED, RUN_URL, FakeService, only_request

TEAM_ID = "4513b7ea-3b91-438f-b7e4-e3e54af9147c"


async def test_opsgenie_creates_one_alert_for_all_responders_in_batch_mode(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    service.status, service.reply = 202, '{"result":"Request will be processed","requestId":"43a29c5c"}'
    data = {
        "apikey": "eb243592-faa2-4ba2-a551-1afdf565c889",
        "target_team": [TEAM_ID],
        "target_user": ["jane@example.com"],
        "target_schedule": ["On call"],
        "target_escalation": ["Night"],
        "region_name": "eu",
        "batch": True,
        "tags": ["prod", "etl"],
        "priority": 2,
        "alias": "etl-failed",
        "entity": "etl",
        "details": {"team": "data"},
    }
    long = Notification(subject="x" * 200, body="Body", severity="failure", run_url=RUN_URL)

    result = await CHANNELS["opsgenie-webhook"].send(data, long, http, settings)

    request = only_request(service)
    assert (request.method, request.path) == ("POST", "/v2/alerts")
    assert request.headers["Authorization"] == "GenieKey eb243592-faa2-4ba2-a551-1afdf565c889"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "message": "x" * 129 + "…",
        "description": "Body",
        "priority": "P2",
        "tags": ["prod", "etl"],
        "alias": "etl-failed",
        "entity": "etl",
        "details": {"team": "data", "run_url": RUN_URL},
        "responders": [
            {"type": "team", "id": TEAM_ID},
            {"type": "user", "username": "jane@example.com"},
            {"type": "schedule", "name": "On call"},
            {"type": "escalation", "name": "Night"},
        ],
    }
    assert (result.status_code, result.response_excerpt) == (202, service.reply)


async def test_opsgenie_opens_one_alert_per_responder_without_batch(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = {"apikey": "key", "target_team": ["ops", "data"]}
    notification = Notification(subject="Late", body="Run is late", severity="warning")

    await CHANNELS["opsgenie-webhook"].send(data, notification, http, settings)

    assert [json.loads(request.body) for request in service.requests] == [
        {"message": "Late", "description": "Run is late", "priority": "P3", "responders": [{"type": "team", **name}]}
        for name in ({"name": "ops"}, {"name": "data"})
    ]


@pytest.mark.parametrize(
    ("slug", "data", "url"),
    [
        ("opsgenie-webhook", {"apikey": "k"}, "https://api.opsgenie.com/v2/alerts"),
        ("opsgenie-webhook", {"apikey": "k", "region_name": "eu"}, "https://api.eu.opsgenie.com/v2/alerts"),
        ("pager-duty-webhook", {"integration_key": "k"}, "https://events.pagerduty.com/v2/enqueue"),
        (
            "pager-duty-webhook",
            {"integration_key": "k", "region_name": "eu"},
            "https://events.eu.pagerduty.com/v2/enqueue",
        ),
        ("discord-webhook", {"webhook_id": "1", "webhook_token": "t"}, "https://discord.com/api/webhooks/1/t"),
        (
            "sendgrid-email",
            {"api_key": "k", "sender_email": "a@b.c", "to_emails": ["d@e.f"]},
            "https://api.sendgrid.com/v3/mail/send",
        ),
        (
            "twilio-sms",
            {
                "account_sid": "AC1",
                "auth_token": "t",
                "from_phone_number": "15005550006",
                "to_phone_numbers": ["15558675310"],
            },
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
        ),
    ],
)
async def test_saas_channels_default_to_the_public_api(
    slug: str, data: dict[str, Any], url: str, tmp_path: Path
) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(202)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        await CHANNELS[slug].send(data, FAILED, http, Settings(home=tmp_path))
    assert seen == [url]


async def test_pagerduty_triggers_an_event(service: FakeService, http: httpx.AsyncClient, settings: Settings) -> None:
    service.status, service.reply = 202, '{"status":"success","message":"Event processed","dedup_key":"d1"}'
    data = {
        "integration_key": "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12",
        "api_key": "u+apikey",
        "source": "baton-prod",
        "component": "etl",
        "group": "data",
        "class_id": "flow-run",
        "clickable_url": "https://wiki.example.com/runbook",
        "custom_details": {"team": "data"},
    }

    await CHANNELS["pager-duty-webhook"].send(data, FAILED, http, settings)

    request = only_request(service)
    assert (request.method, request.path) == ("POST", "/v2/enqueue")
    assert "Authorization" not in request.headers
    assert json.loads(request.body) == {
        "routing_key": "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12",
        "event_action": "trigger",
        "payload": {
            "summary": FAILED.subject,
            "severity": "critical",
            "source": "baton-prod",
            "component": "etl",
            "group": "data",
            "class": "flow-run",
            "custom_details": {"team": "data", "body": FAILED.body},
        },
        "links": [{"href": RUN_URL}, {"href": "https://wiki.example.com/runbook"}],
    }


async def test_sendgrid_sends_one_personalization_per_recipient(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    service.status, service.reply = 202, ""
    data = {"api_key": "SG.key", "sender_email": "baton@example.com", "to_emails": ["a@example.com", "b@example.com"]}

    await CHANNELS["sendgrid-email"].send(data, FAILED, http, settings)

    request = only_request(service)
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.headers["Authorization"] == "Bearer SG.key"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "personalizations": [{"to": [{"email": "a@example.com"}]}, {"to": [{"email": "b@example.com"}]}],
        "from": {"email": "baton@example.com"},
        "subject": FAILED.subject,
        "content": [{"type": "text/plain", "value": FAILED.body}],
    }


async def test_twilio_sends_one_form_encoded_message_per_number(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    service.status, service.reply = 201, '{"sid":"SM1","status":"queued"}'
    data = {
        "account_sid": "AC0123456789abcdef",
        "auth_token": "t0k3n",
        "from_phone_number": "15005550006",
        "to_phone_numbers": ["+1 (555) 867-5310", "15558675311"],
    }
    notification = Notification(subject="Failed", body="etl & co", severity="failure")

    result = await CHANNELS["twilio-sms"].send(data, notification, http, settings)

    assert [(r.method, r.path) for r in service.requests] == [
        ("POST", "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json")
    ] * 2
    first, second = service.requests
    assert first.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert first.headers["Authorization"] == "Basic " + base64.b64encode(b"AC0123456789abcdef:t0k3n").decode()
    assert first.body == b"To=%2B15558675310&From=%2B15005550006&Body=Failed%0Aetl+%26+co"
    assert parse_qs(second.body.decode()) == {
        "To": ["+15558675311"],
        "From": ["+15005550006"],
        "Body": ["Failed\netl & co"],
    }
    assert result.status_code == 201

"""The custom webhook: placeholders filled in as Prefect fills them, bodies, and unknown placeholders refused."""

from __future__ import annotations

import json

import httpx
import pytest

from baton.notifications.channels import CHANNELS, DeliveryFailed, Notification
from baton.settings import Settings
from tests.notifications.conftest import FAILED, FakeService, only_request


async def test_custom_webhook_fills_in_placeholders(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = {
        "name": "ops-hook",
        "url": f"{service.url}/hooks/{{{{path}}}}",
        "method": "PUT",
        "params": {"source": "{{name}}"},
        "json_data": {"text": "{{subject}}: {{body}}", "token": "{{token}}", "retries": "{{retries}}", "fixed": 1},
        "headers": {"Authorization": "Bearer {{token}}", "X-Name": "{{ name }}"},
        "cookies": {"session": "{{token}}"},
        "timeout": 5,
        "secrets": {"token": "s3cr3t", "path": "abc", "retries": 3},
    }
    notification = Notification(subject="Run {{x}} failed", body="It broke")

    await CHANNELS["custom-webhook"].send(data, notification, http, settings)

    request = only_request(service)
    assert (request.method, request.path, request.query) == ("PUT", "/hooks/abc", "source=ops-hook")
    assert request.headers["Authorization"] == "Bearer s3cr3t"
    assert request.headers["X-Name"] == "ops-hook"
    assert request.headers["Cookie"] == "session=s3cr3t"
    assert request.headers["Content-Type"] == "application/json"
    # A filled-in value is not read again as a template; a whole-value secret keeps its JSON type.
    assert json.loads(request.body) == {
        "text": "Run {{x}} failed: It broke",
        "token": "s3cr3t",
        "retries": 3,
        "fixed": 1,
    }


async def test_custom_webhook_sends_text_form_data_as_the_raw_body(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = {
        "name": "raw",
        "url": f"{service.url}/raw",
        "form_data": "subject={{subject}}",
        "headers": {"Content-Type": "text/plain"},
    }
    await CHANNELS["custom-webhook"].send(data, Notification(subject="Hi", body="b"), http, settings)
    request = only_request(service)
    assert (request.method, request.body, request.headers["Content-Type"]) == ("POST", b"subject=Hi", "text/plain")


async def test_custom_webhook_sends_dict_form_data_form_encoded(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = {"name": "form", "url": f"{service.url}/form", "form_data": {"title": "{{name}}", "text": "{{body}}"}}
    await CHANNELS["custom-webhook"].send(data, Notification(subject="Hi", body="a b"), http, settings)
    request = only_request(service)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.body == b"title=form&text=a+b"


async def test_custom_webhook_rejects_an_unknown_placeholder_without_sending(
    service: FakeService, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = {
        "name": "bad",
        "url": f"{service.url}/x",
        "json_data": {"text": "{{subject}} {{tokn}}"},
        "secrets": {"token": "t"},
    }

    assert CHANNELS["custom-webhook"].validate(data) == [
        "json_data uses the placeholder {{tokn}}, which is not subject, body, name or a key of secrets"
    ]
    with pytest.raises(DeliveryFailed, match=r"\{\{tokn\}\}") as caught:
        await CHANNELS["custom-webhook"].send(data, FAILED, http, settings)
    assert caught.value.retryable is False
    assert service.requests == []

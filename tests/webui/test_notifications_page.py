"""The Notifications page in a real browser: a policy created through the form, paused, resumed, edited and deleted
(the API checked after each step), template errors from the API shown as typed and on save, a notification block
made inline, "Send test" and a real failing run's delivery, both received by a webhook on loopback."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.webui.conftest import ACCEPTANCE_FLOWS_DIR, UiServer, run_flow_script

DELIVERY_WAIT_SECONDS = 20.0


@dataclass
class Receiver:
    """A webhook endpoint on loopback: its URL and the JSON bodies it received."""

    url: str
    bodies: list[Any] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = DELIVERY_WAIT_SECONDS) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.bodies


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            found.bodies.append(json.loads(body or b"null"))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def _webhook_block(api: httpx.Client, url: str, name: str) -> str:
    """A custom-webhook block document posting {"text": body} to `url`; its id."""
    block_type = api.get("/block_types/slug/custom-webhook").json()
    schemas = api.post("/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}})
    document = api.post(
        "/block_documents/",
        json={
            "name": name,
            "block_type_id": block_type["id"],
            "block_schema_id": schemas.json()[0]["id"],
            "data": {"name": name, "url": url, "json_data": {"text": "{{body}}"}},
        },
    )
    assert document.status_code == 201, document.text
    return str(document.json()["id"])


@pytest.fixture(scope="module")
def webhook_block(api: httpx.Client, receiver: Receiver) -> str:
    return _webhook_block(api, receiver.url, "ui-hook")


def _policies(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.post("/flow_run_notification_policies/filter", json={})
    assert response.status_code == 200, response.text
    return list(response.json())


def _set_states(page: Any, wanted: set[str]) -> None:
    for box in page.locator('input[name="state_names"]').all():
        box.set_checked(box.get_attribute("value") in wanted)


def test_create_pause_resume_edit_and_delete_a_policy(
    page: Any, ui_server: UiServer, api: httpx.Client, webhook_block: str
) -> None:
    page.goto(ui_server.url + "/notifications")
    page.click("text=New notification")
    page.wait_for_url("**/notifications/new")
    page.fill("#policy-name", "ui-nightly-failures")
    _set_states(page, {"Failed"})
    page.fill("#policy-tags", "nightly")
    page.select_option("#policy-target", webhook_block)
    with page.expect_navigation(url="**/notifications"):
        page.click("#policy-form button[type=submit]")
    (policy,) = [row for row in _policies(api) if row["name"] == "ui-nightly-failures"]
    assert (policy["state_names"], policy["tags"], policy["block_document_id"], policy["is_active"]) == (
        ["Failed"],
        ["nightly"],
        webhook_block,
        True,
    )
    assert policy["message_template"] is None
    row = page.locator(f'tr[data-policy-id="{policy["id"]}"]')
    assert "Failed" in row.inner_text() and "nightly" in row.inner_text()
    assert "ui-hook" in row.inner_text() and "Custom Webhook" in row.inner_text()
    assert row.locator("[data-status]").inner_text() == "Active"

    with page.expect_navigation():
        row.locator("text=Pause").click()
    assert row.locator("[data-status]").inner_text() == "Paused"
    assert api.get(f"/flow_run_notification_policies/{policy['id']}").json()["is_active"] is False

    with page.expect_navigation():
        row.locator("text=Resume").click()
    assert row.locator("[data-status]").inner_text() == "Active"
    assert api.get(f"/flow_run_notification_policies/{policy['id']}").json()["is_active"] is True

    row.locator("text=Edit").click()
    page.wait_for_url(f"**/notifications/policy/{policy['id']}/edit")
    assert page.input_value("#policy-tags") == "nightly"
    assert page.is_checked('input[name="state_names"][value="Failed"]')
    assert not page.is_checked('input[name="state_names"][value="Crashed"]')
    page.check('input[name="state_names"][value="Crashed"]')
    page.fill("#policy-tags", "nightly, weekly")
    page.fill("#policy-template", "{flow_run_name} is {flow_run_state_name}")
    with page.expect_navigation(url="**/notifications"):
        page.click("#policy-form button[type=submit]")
    stored = api.get(f"/flow_run_notification_policies/{policy['id']}").json()
    assert stored["state_names"] == ["Crashed", "Failed"] or stored["state_names"] == ["Failed", "Crashed"]
    assert stored["tags"] == ["nightly", "weekly"]
    assert stored["message_template"] == "{flow_run_name} is {flow_run_state_name}"
    assert "Crashed" in row.inner_text() and "weekly" in row.inner_text()

    row.locator("button.danger").click()
    assert "ui-nightly-failures" in page.locator("#confirm-message").inner_text()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert api.get(f"/flow_run_notification_policies/{policy['id']}").status_code == 404
    assert page.locator(f'tr[data-policy-id="{policy["id"]}"]').count() == 0


def test_template_preview_and_errors_come_from_the_api(
    page: Any, ui_server: UiServer, api: httpx.Client, webhook_block: str
) -> None:
    page.goto(ui_server.url + "/notifications/new")
    # The default message, for the sample run.
    page.wait_for_function("document.getElementById('preview-message').textContent.includes('fuzzy-leopard')")
    assert "daily-etl" in page.inner_text("#preview-message")
    page.fill("#policy-template", "Run {flow_run_name} of {flow_name} is {flow_run_state_name}")
    page.wait_for_function(
        "document.getElementById('preview-message').textContent === 'Run fuzzy-leopard of daily-etl is Failed'"
    )
    assert page.inner_text("#template-error") == ""

    page.fill("#policy-template", "Run {flow_run_nam} failed")
    page.wait_for_function("document.getElementById('template-error').textContent !== ''")
    assert page.inner_text("#template-error").startswith("Unknown placeholder {flow_run_nam} in the message template")
    assert page.inner_text("#preview-message") == ""

    page.fill("#policy-template", "Run {flow_run_name failed")
    page.wait_for_function("document.getElementById('template-error').textContent.includes('not valid')")
    assert "expected '}' before end of string" in page.inner_text("#template-error")

    # Saving is refused by the API with the same message, and nothing is created.
    before = len(_policies(api))
    page.fill("#policy-template", "Run {nope}")
    page.wait_for_function("document.getElementById('template-error').textContent.includes('{nope}')")
    page.select_option("#policy-target", webhook_block)
    page.click("#policy-form button[type=submit]")
    page.wait_for_function("document.getElementById('flash').textContent.includes('Unknown placeholder {nope}')")
    assert page.inner_text("#flash").startswith("Message template: Unknown placeholder {nope}")
    assert page.get_attribute("#policy-template", "aria-invalid") == "true"
    assert len(_policies(api)) == before
    page.browser_errors.expect("status of 422")


def test_a_new_block_made_inline_and_send_test(
    page: Any, ui_server: UiServer, api: httpx.Client, receiver: Receiver
) -> None:
    page.goto(ui_server.url + "/notifications/new")
    page.check('input[name="target_mode"][value="new"]')
    page.select_option("#channel-type", "custom-webhook")
    assert page.get_attribute("#blocks-link", "href") == "/blocks/new?type=custom-webhook"
    name = f"ui-inline-{uuid.uuid4().hex[:6]}"
    # A required field left empty is named before anything is sent.
    page.fill("#block-name", name)
    page.click("#policy-form button[type=submit]")
    assert page.inner_text('[data-block-error="url"]') == "This field is required."
    page.fill("#block-field-name", name)
    page.fill("#block-field-url", receiver.url)
    page.fill("#block-field-json_data", '{"text": "{{subject}}: {{body}}"}')
    _set_states(page, {"Completed"})
    page.fill("#policy-tags", "ui-inline")
    with page.expect_navigation(url="**/notifications"):
        page.click("#policy-form button[type=submit]")
    (policy,) = [row for row in _policies(api) if row["tags"] == ["ui-inline"]]
    document = api.get(f"/block_documents/{policy['block_document_id']}").json()
    assert (document["name"], document["block_type"]["slug"]) == (name, "custom-webhook")
    assert document["data"]["url"] == receiver.url

    already = len(receiver.bodies)
    row = page.locator(f'tr[data-policy-id="{policy["id"]}"]')
    row.locator("text=Send test").click()
    result = page.locator(f'[data-test-result="{policy["id"]}"]')
    page.wait_for_function(
        f"document.querySelector('[data-test-result=\"{policy['id']}\"]').textContent.startsWith('Test message sent')"
    )
    assert result.inner_text() == "Test message sent (HTTP 200)."
    bodies = receiver.wait_for(already + 1)
    assert "fuzzy-leopard" in bodies[already]["text"]


def test_send_test_shows_the_services_error(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    # Nothing listens on port 9 of loopback: the send fails and the page says why.
    target = _webhook_block(api, "http://127.0.0.1:9/nowhere", "ui-dead-hook")
    created = api.post(
        "/flow_run_notification_policies/",
        json={"name": "ui-dead", "state_names": ["Failed"], "block_document_id": target},
    )
    assert created.status_code == 201, created.text
    policy_id = created.json()["id"]
    page.goto(ui_server.url + "/notifications")
    page.locator(f'tr[data-policy-id="{policy_id}"]').locator("text=Send test").click()
    page.wait_for_function(
        f"document.querySelector('[data-test-result=\"{policy_id}\"]').textContent.startsWith('Test message not sent')"
    )
    assert "field-error" in (page.get_attribute(f'[data-test-result="{policy_id}"]', "class") or "")
    api.delete(f"/flow_run_notification_policies/{policy_id}")


def test_a_failing_run_is_delivered_and_listed(
    page: Any, ui_server: UiServer, api: httpx.Client, receiver: Receiver, webhook_block: str, tmp_path: Path
) -> None:
    created = api.post(
        "/flow_run_notification_policies/",
        json={
            "name": "ui-daily-etl",
            "state_names": ["Failed"],
            "tags": ["daily-etl"],
            "block_document_id": webhook_block,
        },
    )
    assert created.status_code == 201, created.text
    policy_id = created.json()["id"]
    already = len(receiver.bodies)
    outcome = run_flow_script(ui_server, tmp_path, ACCEPTANCE_FLOWS_DIR / "daily_etl_fails.py")
    bodies = receiver.wait_for(already + 1)
    assert any("of the daily-etl flow entered state Failed" in body["text"] for body in bodies[already:]), bodies

    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    while True:
        page.goto(ui_server.url + f"/notifications?policy={policy_id}")
        row = page.locator("#delivery-table tbody tr")
        if row.count() and row.first.locator("[data-delivery-status]").inner_text() == "Sent":
            break
        assert time.monotonic() < deadline, "the delivery was not listed as sent"
        time.sleep(0.5)
    assert row.count() == 1
    text = row.first.inner_text()
    assert "ui-daily-etl" in text and "Failed" in text and "200" in text
    run = api.get(f"/flow_runs/{outcome['flow_run_id']}").json()
    assert row.first.locator(f'a[href="/runs/flow-run/{run["id"]}"]').inner_text() == run["name"]


def test_user_text_is_escaped(page: Any, ui_server: UiServer, api: httpx.Client, webhook_block: str) -> None:
    created = api.post(
        "/flow_run_notification_policies/",
        json={
            "name": "<b>bold</b> policy",
            "state_names": ["<i>Odd</i>"],
            "tags": ["<u>tag</u>"],
            "block_document_id": webhook_block,
            "message_template": "</textarea><b>x</b> {flow_name}",
        },
    )
    assert created.status_code == 201, created.text
    policy_id = created.json()["id"]
    page.goto(ui_server.url + "/notifications")
    row = page.locator(f'tr[data-policy-id="{policy_id}"]')
    assert row.locator("b, i, u").count() == 0
    assert "<b>bold</b> policy" in row.inner_text() and "<u>tag</u>" in row.inner_text()
    page.goto(ui_server.url + f"/notifications/policy/{policy_id}/edit")
    assert page.locator("main b, main i, main u").count() == 0
    assert page.input_value("#policy-template") == "</textarea><b>x</b> {flow_name}"
    assert page.is_checked('input[name="state_names"][value="<i>Odd</i>"]')
    api.delete(f"/flow_run_notification_policies/{policy_id}")

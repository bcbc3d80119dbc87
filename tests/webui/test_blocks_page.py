"""The Blocks pages in a real browser: catalogue, a form generated from the block schema, secrets that never reach
the HTML, edit with merge semantics, delete with confirmation, and readable messages for bad input."""

from __future__ import annotations

import re
from typing import Any

import httpx

from baton.server.blocks.system import SYSTEM_BLOCKS
from tests.webui.conftest import UiServer

SLACK_URL = "https://hooks.slack.com/services/T000/B000/very-secret-token-123"


def _document_id(page: Any) -> str:
    match = re.search(r"/blocks/([0-9a-f-]{36})$", page.url)
    assert match, page.url
    return match.group(1)


def _read(api: httpx.Client, document_id: str) -> dict[str, Any]:
    response = api.get(f"/block_documents/{document_id}", params={"include_secrets": "true"})
    assert response.status_code == 200, response.text
    return response.json()


def test_catalogue_lists_the_registered_block_types_with_create_links(page: Any, ui_server: UiServer) -> None:
    page.goto(ui_server.url + "/blocks")
    page.click("text=Add block")
    page.wait_for_url("**/blocks/catalog")
    for block in SYSTEM_BLOCKS:
        card = page.locator(f'.block-card[data-slug="{block.slug}"]')
        assert card.count() == 1, block.slug
        assert block.name in card.inner_text()
        assert card.locator("a.button").get_attribute("href") == f"/blocks/new?type={block.slug}"


def test_create_view_edit_and_delete_a_slack_webhook_block(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    page.goto(ui_server.url + "/blocks/catalog")
    page.click('.block-card[data-slug="slack-webhook"] >> text=Create')
    page.wait_for_url("**/blocks/new?type=slack-webhook")
    # The form comes from the schema: a password input for the secret URL, a select for the enum, a checkbox.
    assert page.get_attribute("#field-url", "type") == "password"
    options = page.locator("#field-notify_type option").all_inner_texts()
    assert options == ["info", "success", "warning", "failure"]
    assert page.is_checked("#field-allow_private_urls")

    page.fill("#block-name", "team-alerts")
    page.fill("#field-url", SLACK_URL)
    page.select_option("#field-notify_type", label="warning")
    page.uncheck("#field-allow_private_urls")
    page.click("text=Create block")
    page.wait_for_url(re.compile(r"/blocks/[0-9a-f-]{36}$"))
    document_id = _document_id(page)

    stored = _read(api, document_id)
    assert stored["name"] == "team-alerts"
    assert stored["data"] == {"url": SLACK_URL, "notify_type": "warning", "allow_private_urls": False}
    # The secret is masked on the page and absent from its HTML.
    assert SLACK_URL not in page.content()
    assert "very-secret-token" not in page.content()
    assert page.locator('#block-fields tr[data-field="url"] td').nth(1).inner_text() == "********"
    assert page.locator('#block-fields tr[data-field="notify_type"] td').nth(1).inner_text() == "warning"

    page.goto(ui_server.url + "/blocks")
    row = page.locator("#block-documents tbody tr", has_text="team-alerts")
    assert row.count() == 1 and "Slack Webhook" in row.inner_text() and "slack-webhook" in row.inner_text()
    assert "very-secret-token" not in page.content()
    page.goto(ui_server.url + "/blocks?type=secret")
    assert page.locator("#block-documents tbody tr", has_text="team-alerts").count() == 0
    page.goto(ui_server.url + "/blocks?type=slack-webhook")
    assert page.locator("#block-documents tbody tr", has_text="team-alerts").count() == 1
    page.goto(ui_server.url + "/blocks")
    page.fill("#block-search", "TEAM")
    page.click("text=Filter")
    assert page.locator("#block-documents tbody tr").count() == 1
    page.goto(ui_server.url + "/blocks?q=nothing-like-this")
    assert "No block's name contains" in page.locator("main").inner_text()

    # Edit: the secret input starts empty; leaving it empty keeps the stored secret (merge semantics).
    page.goto(f"{ui_server.url}/blocks/{document_id}")
    page.click("text=Edit")
    page.wait_for_url(f"**/blocks/{document_id}/edit")
    assert page.input_value("#field-url") == ""
    assert "very-secret-token" not in page.content()
    assert page.input_value("#block-name") == "team-alerts"
    page.select_option("#field-notify_type", label="failure")
    page.click("text=Save changes")
    page.wait_for_url(re.compile(rf"/blocks/{document_id}$"))
    assert _read(api, document_id)["data"] == {"url": SLACK_URL, "notify_type": "failure", "allow_private_urls": False}

    page.click("text=Edit")
    page.fill("#field-url", SLACK_URL + "-rotated")
    page.click("text=Save changes")
    page.wait_for_url(re.compile(rf"/blocks/{document_id}$"))
    assert _read(api, document_id)["data"]["url"] == SLACK_URL + "-rotated"

    # Delete asks first: cancelling keeps the block, confirming deletes it.
    page.click("#delete-block")
    assert "team-alerts" in page.locator("#confirm-message").inner_text()
    page.click("#confirm-dialog >> text=Cancel")
    assert api.get(f"/block_documents/{document_id}").status_code == 200
    page.click("#delete-block")
    page.click("#confirm-ok")
    page.wait_for_url(re.compile(r"/blocks$"))
    assert api.get(f"/block_documents/{document_id}").status_code == 404
    assert page.locator("#block-documents tbody tr", has_text="team-alerts").count() == 0


def test_secret_block_value_is_never_in_any_page(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    secret = "pa55-word-that-must-not-leak"
    page.goto(ui_server.url + "/blocks/new?type=secret")
    page.fill("#block-name", "db-password")
    page.fill("#field-value", secret)
    page.click("text=Create block")
    page.wait_for_url(re.compile(r"/blocks/[0-9a-f-]{36}$"))
    document_id = _document_id(page)
    assert _read(api, document_id)["data"] == {"value": secret}
    for path in (f"/blocks/{document_id}", f"/blocks/{document_id}/edit", "/blocks", "/blocks?type=secret"):
        html = httpx.get(ui_server.url + path).text
        assert "db-password" in html, path
        assert secret not in html, path


def test_bad_values_and_a_taken_name_show_readable_messages(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    page.goto(ui_server.url + "/blocks/new?type=custom-webhook")
    page.fill("#block-name", "Ops Hook")
    page.fill("#field-name", "ops")
    page.fill("#field-headers", "{not json")
    page.fill("#field-secrets", '{"token": "hidden-token-value"}')
    page.click("text=Create block")
    # Checked in the page before anything is sent: bad JSON and a missing required field, next to their inputs.
    assert "not valid JSON" in page.locator('[data-error-for="data.headers"]').inner_text()
    assert page.locator('[data-error-for="data.url"]').inner_text() == "This field is required."
    assert page.get_attribute("#field-headers", "aria-invalid") == "true"
    custom_webhooks = {"block_types": {"slug": {"any_": ["custom-webhook"]}}}
    assert api.post("/block_documents/count", json=custom_webhooks).json() == 0

    page.fill("#field-headers", '{"X-Team": "ops"}')
    page.fill("#field-url", "https://example.com/hook")
    page.fill("#field-timeout", "2.5")
    page.click("text=Create block")
    # The API refuses the name; its message shows next to the name input.
    name_error = page.locator('[data-error-for="name"]')
    name_error.wait_for(state="visible")
    assert "lowercase letters, numbers, and dashes" in name_error.inner_text()
    assert "Value error" not in name_error.inner_text()
    assert page.locator('[data-error-for="data.headers"]').inner_text() == ""

    page.fill("#block-name", "ops-hook")
    page.click("text=Create block")
    page.wait_for_url(re.compile(r"/blocks/[0-9a-f-]{36}$"))
    document_id = _document_id(page)
    data = _read(api, document_id)["data"]
    assert data["headers"] == {"X-Team": "ops"} and data["timeout"] == 2.5 and data["method"] == "POST"
    assert data["secrets"] == {"token": "hidden-token-value"}
    assert "hidden-token-value" not in page.content()

    # A second block of the same type and name: the 409 shows next to the name.
    page.goto(ui_server.url + "/blocks/new?type=custom-webhook")
    page.fill("#block-name", "ops-hook")
    page.fill("#field-name", "ops")
    page.fill("#field-url", "https://example.com/hook")
    page.click("text=Create block")
    name_error = page.locator('[data-error-for="name"]')
    name_error.wait_for(state="visible")
    assert "already" in name_error.inner_text()

    # Editing the JSON field of per-key secrets keeps them hidden, and posting the mask back keeps their value.
    page.goto(f"{ui_server.url}/blocks/{document_id}/edit")
    assert "hidden-token-value" not in page.content()
    assert "********" in page.input_value("#field-secrets")
    page.fill("#field-timeout", "7")
    page.click("text=Save changes")
    page.wait_for_url(re.compile(rf"/blocks/{document_id}$"))
    data = _read(api, document_id)["data"]
    assert data["secrets"] == {"token": "hidden-token-value"} and data["timeout"] == 7
    # The refused requests (422, 409) are logged by the browser.
    page.browser_errors.expect("422")
    page.browser_errors.expect("409")


def test_unknown_block_type_and_document_are_404_pages(page: Any, ui_server: UiServer) -> None:
    response = page.goto(ui_server.url + "/blocks/new?type=no-such-type")
    assert response.status == 404 and "catalogue" in page.locator("main").inner_text()
    assert page.goto(ui_server.url + "/blocks/not-an-id").status == 404
    assert page.goto(ui_server.url + "/blocks/00000000-0000-0000-0000-000000000000").status == 404
    page.browser_errors.expect("404")

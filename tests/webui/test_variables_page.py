"""The Variables pages in a real browser: create, search, edit and delete, and readable messages for a value that is
not JSON, a bad name, a value over the size limit and a taken name."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.webui.conftest import UiServer


def _variable(api: httpx.Client, name: str) -> dict[str, Any] | None:
    response = api.get(f"/variables/name/{name}")
    return response.json() if response.status_code == 200 else None


def test_create_search_edit_and_delete_a_variable(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    page.goto(ui_server.url + "/variables")
    assert "No variables yet" in page.locator("main").inner_text()
    page.click("text=New variable")
    page.wait_for_url("**/variables/new")
    page.fill("#variable-name", "api_base")
    page.fill("#variable-value", '{"url": "https://example.com/<b>api</b>", "retries": 3}')
    page.fill("#variable-tags", "prod, team-a")
    page.click("text=Create variable")
    page.wait_for_url(re.compile(r"/variables\?q=api_base$"))
    stored = _variable(api, "api_base")
    assert stored is not None
    assert stored["value"] == {"url": "https://example.com/<b>api</b>", "retries": 3}
    assert stored["tags"] == ["prod", "team-a"]

    row = page.locator('#variables tr[data-name="api_base"]')
    assert row.count() == 1
    assert '"retries":3}' in row.inner_text() and "<b>api</b>" in row.inner_text()
    assert row.locator("b").count() == 0
    assert row.locator(".tag").all_inner_texts() == ["prod", "team-a"]

    api.post("/variables/", json={"name": "other_setting", "value": "x"}).raise_for_status()
    page.goto(ui_server.url + "/variables?q=api")
    assert page.locator("#variables tbody tr").count() == 1
    page.goto(ui_server.url + "/variables")
    assert page.locator("#variables tbody tr").count() == 2
    page.fill("#variable-search", "zzz")
    page.click('main button:has-text("Search")')
    assert "No variable's name contains" in page.locator("main").inner_text()

    # Edit: the form holds the current value as JSON; a rename and a new value are saved.
    page.goto(ui_server.url + "/variables")
    page.click("text=api_base")
    page.wait_for_url(re.compile(r"/variables/[0-9a-f-]{36}$"))
    assert '"retries": 3' in page.input_value("#variable-value")
    page.fill("#variable-name", "api_base_url")
    page.fill("#variable-value", '"https://example.com"')
    page.fill("#variable-tags", "")
    page.click("text=Save changes")
    page.wait_for_url(re.compile(r"/variables\?q=api_base_url$"))
    assert _variable(api, "api_base") is None
    renamed = _variable(api, "api_base_url")
    assert renamed is not None and renamed["value"] == "https://example.com" and renamed["tags"] == []

    # Delete from the list asks first.
    row = page.locator('#variables tr[data-name="api_base_url"]')
    row.locator("text=Delete").click()
    assert "api_base_url" in page.locator("#confirm-message").inner_text()
    page.click("#confirm-dialog >> text=Cancel")
    assert _variable(api, "api_base_url") is not None
    row.locator("text=Delete").click()
    page.click("#confirm-ok")
    page.wait_for_function("!document.querySelector('#variables tr[data-name=\"api_base_url\"]')")
    assert _variable(api, "api_base_url") is None

    # Delete from the edit page goes back to the list.
    other = _variable(api, "other_setting")
    assert other is not None
    page.goto(f"{ui_server.url}/variables/{other['id']}")
    page.click("#delete-variable")
    page.click("#confirm-ok")
    page.wait_for_url(re.compile(r"/variables$"))
    assert _variable(api, "other_setting") is None


def test_bad_input_shows_readable_messages(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    api.post("/variables/", json={"name": "taken", "value": 1}).raise_for_status()
    page.goto(ui_server.url + "/variables/new")
    page.fill("#variable-name", "fresh")
    page.fill("#variable-value", "hello world")
    page.click("text=Create variable")
    # Not JSON: said in the page, before anything is sent.
    message = page.locator('[data-error-for="value"]').inner_text()
    assert "not valid JSON" in message and "double quotes" in message
    assert _variable(api, "fresh") is None

    page.fill("#variable-value", "[1, 2,]")
    page.click("text=Create variable")
    assert "not valid JSON" in page.locator('[data-error-for="value"]').inner_text()

    # A name the API refuses: its reason next to the name.
    page.fill("#variable-name", "Bad Name")
    page.fill("#variable-value", "[1, 2]")
    page.click("text=Create variable")
    name_error = page.locator('[data-error-for="name"]')
    name_error.wait_for(state="visible")
    assert "lowercase letters, digits, dashes and underscores" in name_error.inner_text()
    assert page.locator('[data-error-for="value"]').inner_text() == ""

    # Over the size limit: the API's reason next to the value.
    page.fill("#variable-name", "fresh")
    page.fill("#variable-value", '"' + "x" * 6000 + '"')
    page.click("text=Create variable")
    value_error = page.locator('[data-error-for="value"]')
    value_error.wait_for(state="visible")
    assert "at most 5000" in value_error.inner_text()

    # A taken name: the 409 next to the name.
    page.fill("#variable-name", "taken")
    page.fill("#variable-value", "2")
    page.click("text=Create variable")
    page.wait_for_function("document.querySelector('[data-error-for=\"name\"]').textContent.includes('already exists')")
    assert _variable(api, "taken")["value"] == 1  # type: ignore[index]
    page.browser_errors.expect("422")
    page.browser_errors.expect("409")


def test_unknown_variable_is_a_404_page(page: Any, ui_server: UiServer) -> None:
    assert page.goto(ui_server.url + "/variables/00000000-0000-0000-0000-000000000000").status == 404
    assert page.goto(ui_server.url + "/variables/nope").status == 404
    page.browser_errors.expect("404")

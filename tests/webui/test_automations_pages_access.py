"""The Automations pages with authentication on: a viewer (automation:read) reads the list, an automation and the
deployment page's list but gets no New or Edit, a disabled switch and Delete, and cannot open the form; a developer
(automation:write) gets the form and its switch works."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.databases import TemplateDatabases
from tests.webui.auth_server import admin_headers, auth_ui_server, sign_in
from tests.webui.conftest import UiServer


@pytest.fixture(scope="module")
def ui_server(
    ui_database: str, template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UiServer]:
    url = template_databases.clone(ui_database, tmp_path_factory.mktemp("ui-db"))
    try:
        yield from auth_ui_server(tmp_path_factory.mktemp("ui-home"), url)
    finally:
        template_databases.drop(url)


@pytest.fixture(scope="module")
def made(ui_server: UiServer) -> dict[str, str]:
    with httpx.Client(base_url=ui_server.api_url, headers=admin_headers(), timeout=10.0) as admin:
        flow = admin.post("/flows/", json={"name": "guarded-flow"}).json()
        deployment = admin.post("/deployments/", json={"name": "guarded", "flow_id": flow["id"]}).json()
        automation = admin.post(
            "/automations/",
            json={
                "name": "guarded-automation",
                "trigger": {"posture": "Reactive", "expect": ["x.y"]},
                "actions": [{"type": "run-deployment", "source": "selected", "deployment_id": deployment["id"]}],
            },
        )
        assert automation.status_code == 201, automation.text
    return {"automation": automation.json()["id"], "deployment": deployment["id"]}


def test_a_viewer_reads_but_gets_no_forms(page: Any, ui_server: UiServer, made: dict[str, str]) -> None:
    sign_in(page, ui_server, "victor", "/automations")
    row = page.locator(f'tr[data-automation-id="{made["automation"]}"]')
    assert "When x.y arrive" in row.inner_text()
    assert page.locator("text=New automation").count() == 0
    assert row.locator("text=Edit").count() == 0
    assert row.locator("[data-automation-switch]").is_disabled()
    assert row.locator("text=Delete").is_disabled()
    page.goto(f"{ui_server.url}/automations/{made['automation']}")
    assert "Run deployment guarded-flow/guarded" in page.inner_text("#action-words")
    page.goto(f"{ui_server.url}/deployments/{made['deployment']}")
    assert page.locator("#deployment-automations").inner_text().count("guarded-automation") == 1
    assert page.locator("text=New automation for this deployment").count() == 0
    for path in ("/automations/new", f"/automations/{made['automation']}/edit"):
        response = page.goto(ui_server.url + path)
        assert response.status == 403, path
    page.browser_errors.expect("403")


def test_a_developer_gets_the_form_and_the_switch(page: Any, ui_server: UiServer, made: dict[str, str]) -> None:
    sign_in(page, ui_server, "dora", "/automations")
    switch = page.locator(f'[data-automation-switch="{made["automation"]}"]')
    switch.click()
    page.wait_for_function("document.querySelector('#flash').textContent === 'The automation is off.'")
    with httpx.Client(base_url=ui_server.api_url, headers=admin_headers(), timeout=10.0) as admin:
        assert admin.get(f"/automations/{made['automation']}").json()["enabled"] is False
    response = page.goto(f"{ui_server.url}/automations/{made['automation']}/edit")
    assert response.status == 200
    assert page.input_value("#trigger-kind") == "custom"  # no form makes a reactive trigger on any event
    assert page.input_value("#automation-name") == "guarded-automation"

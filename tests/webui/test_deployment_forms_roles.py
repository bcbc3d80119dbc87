"""The schedule and edit forms of a deployment's page with authentication on: a viewer (deployment:read only) sees
no forms and disabled schedule buttons, yet may preview a schedule's run times, and is refused the New deployment
form; an admin gets the forms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.databases import TemplateDatabases
from tests.webui.auth_server import USERS, admin_headers, auth_ui_server, sign_in
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
def deployment_id(ui_server: UiServer) -> str:
    with httpx.Client(base_url=ui_server.api_url, headers=admin_headers(), timeout=10.0) as admin:
        flow = admin.post("/flows/", json={"name": "roles-flow"}).json()
        body = {"name": "roles", "flow_id": flow["id"], "schedules": [{"schedule": {"cron": "0 * * * *"}}]}
        response = admin.post("/deployments/", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]


def test_a_viewer_gets_no_forms_but_may_preview(page: Any, ui_server: UiServer, deployment_id: str) -> None:
    sign_in(page, ui_server, "victor", f"/deployments/{deployment_id}")
    assert page.locator("#schedule-form").count() == 0
    assert page.locator("#deployment-form").count() == 0
    row = page.locator("#schedules tr").first
    for button in ("[data-edit-schedule]", "[data-toggle-schedule]", "[data-delete-schedule]"):
        assert row.locator(button).is_disabled()

    auth = ("victor", USERS["victor"][1])
    with httpx.Client(base_url=ui_server.api_url, auth=auth, timeout=10.0) as viewer:
        preview = viewer.get("/ui/schedules/preview", params={"schedule": json.dumps({"interval": 60})})
        assert preview.status_code == 200 and len(preview.json()["times"]) == 5
        added = viewer.post(f"/deployments/{deployment_id}/schedules", json=[{"schedule": {"interval": 60}}])
        assert added.status_code == 403


def test_an_admin_gets_the_forms(page: Any, ui_server: UiServer, deployment_id: str) -> None:
    sign_in(page, ui_server, "alice", f"/deployments/{deployment_id}")
    page.click("#add-schedule")
    page.wait_for_function("document.querySelectorAll('#schedule-preview li time').length === 5")
    assert page.locator("#deployment-form").count() == 1
    assert page.locator("#schedules tr [data-edit-schedule]").first.is_enabled()


def test_a_viewer_gets_no_new_deployment_form(page: Any, ui_server: UiServer, deployment_id: str) -> None:
    sign_in(page, ui_server, "victor", "/deployments")
    assert page.locator("#new-deployment").count() == 0
    flow_id = page.locator(f'tr[data-deployment-id="{deployment_id}"] a[href^="/flows/"]').get_attribute("href")
    page.goto(ui_server.url + flow_id)
    assert page.locator("#flow-activity").count() == 1
    assert page.locator("#new-deployment").count() == 0
    response = page.goto(ui_server.url + "/deployments/new")
    assert response.status == 403
    page.browser_errors.expect("403")


def test_an_admin_gets_the_new_deployment_form(page: Any, ui_server: UiServer, deployment_id: str) -> None:
    sign_in(page, ui_server, "alice", "/deployments")
    with page.expect_navigation():
        page.click("#new-deployment")
    with page.expect_navigation():
        page.select_option("#new-flow", label="roles-flow")
    assert page.locator("#create-deployment").is_enabled()

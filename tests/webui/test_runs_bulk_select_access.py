"""Selecting every run matching the Runs page's filter with authentication on: a viewer gets no bulk action and no
offer; a developer's browser session deletes them all through the bulk endpoint (cookie and CSRF token). The same
on the Task runs tab, where acting needs task_run:write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.databases import TemplateDatabases
from tests.webui.auth_server import admin_headers, auth_ui_server, sign_in
from tests.webui.bulk_actions import confirm_bulk_action
from tests.webui.conftest import UiServer

TAG = "guarded-bulk"
MATCHING = 53


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
def admin(ui_server: UiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui_server.api_url, headers=admin_headers(), timeout=10.0) as client:
        flow_id = client.post("/flows", json={"name": "guarded-bulk"}).raise_for_status().json()["id"]
        for n in range(MATCHING):
            body = {"flow_id": flow_id, "name": f"run-{n}", "tags": [TAG], "state": {"type": "COMPLETED"}}
            client.post("/flow_runs", json=body).raise_for_status()
        yield client


def matching(admin: httpx.Client) -> int:
    return admin.post("/flow_runs/count", json={"flow_runs": {"tags": {"all_": [TAG]}}}).raise_for_status().json()


def test_a_viewer_gets_no_bulk_action_on_the_matching_runs(page: Any, ui_server: UiServer, admin: httpx.Client) -> None:
    sign_in(page, ui_server, "victor", "/runs")
    page.goto(f"{ui_server.url}/runs?tag={TAG}")
    assert page.locator("table.run-table tbody tr").count() == 50
    assert page.locator("button[data-bulk]").count() == 0
    assert page.locator("[data-select-matching]").count() == 0
    page.check("input[data-select-all]")
    assert matching(admin) == MATCHING


def test_a_developer_deletes_every_matching_run(page: Any, ui_server: UiServer, admin: httpx.Client) -> None:
    sign_in(page, ui_server, "dora", "/runs")
    page.goto(f"{ui_server.url}/runs?tag={TAG}")
    page.check("input[data-select-all]")
    offer = page.locator("[data-select-matching-button]")
    offer.wait_for(state="visible")
    offer.click()
    page.click("button[data-bulk=delete]")
    assert page.locator("#confirm-message").inner_text().startswith(f"Delete all {MATCHING} runs matching this filter?")
    page.click("#confirm-ok")
    page.locator("#flash").wait_for(state="visible")
    assert page.locator("#flash").inner_text() == f"Deleted {MATCHING} runs matching this filter."
    assert matching(admin) == 0


def test_task_run_bulk_actions_follow_task_run_write(page: Any, ui_server: UiServer, admin: httpx.Client) -> None:
    """The Task runs tab: a viewer sees the task runs and no action; a developer (task_run:write) sets a state on the
    selected ones from a browser session."""
    body = {"name": "guarded-0", "task_key": "guarded", "dynamic_key": "0", "tags": ["guarded-task"]}
    task_run = admin.post("/task_runs", json=body).raise_for_status().json()["id"]
    sign_in(page, ui_server, "victor", "/task-runs")
    page.goto(f"{ui_server.url}/task-runs?tag=guarded-task")
    assert page.locator("table.run-table tbody tr").count() == 1
    assert page.locator("button[data-bulk], select[data-bulk-state], [data-select-matching]").count() == 0
    page.context.clear_cookies()

    sign_in(page, ui_server, "dora", "/task-runs")
    page.goto(f"{ui_server.url}/task-runs?tag=guarded-task")
    assert page.locator("button[data-bulk=cancel]").count() == 0  # task runs are set to Cancelled instead
    page.check("table.run-table tbody tr:first-child input[data-select-run]")
    page.select_option("select[data-bulk-state]", "COMPLETED")
    assert confirm_bulk_action(page, "state", "Set the task run guarded-0 to Completed?") == (
        "Set 1 task run to Completed."
    )
    assert admin.get(f"/task_runs/{task_run}").raise_for_status().json()["state_type"] == "COMPLETED"

"""The Task runs tab (`/task-runs`): task runs filtered by the URL, and every task run matching the filter, beyond the
page shown, set to a state or deleted through Baton's own `/task_runs/bulk_set_state` and `/bulk_delete` (the filter
and at most 50 runs a call), after a confirmation with the count."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.webui.bulk_actions import confirm_bulk_action
from tests.webui.conftest import UiServer, follow

# More than a page of the table (50 rows) and than one bulk call (50 runs).
MATCHING = 56


def create_task_runs(api: httpx.Client, count: int, **body: Any) -> list[str]:
    return [
        api.post("/task_runs", json={"task_key": "load", "dynamic_key": f"{uuid.uuid4().hex[:8]}-{n}", **body})
        .raise_for_status()
        .json()["id"]
        for n in range(count)
    ]


def create_flow_run(api: httpx.Client) -> str:
    flow_id = api.post("/flows", json={"name": "ui-task-bulk"}).raise_for_status().json()["id"]
    return api.post("/flow_runs", json={"flow_id": flow_id}).raise_for_status().json()["id"]


def task_runs(api: httpx.Client, task_run_filter: dict[str, Any]) -> list[dict[str, Any]]:
    body = {"task_runs": task_run_filter, "limit": 200}
    return api.post("/task_runs/filter", json=body).raise_for_status().json()


def select_all_matching(page: Any, url: str) -> None:
    page.goto(url)
    assert page.locator("table.run-table tbody tr").count() == 50
    assert page.locator("#run-count").inner_text() == f"Showing 50 task runs · {MATCHING} task runs match"
    page.check("input[data-select-all]")
    offer = page.locator("[data-select-matching-button]")
    offer.wait_for(state="visible")
    assert offer.inner_text() == f"Select all {MATCHING} task runs matching this filter"
    offer.click()
    assert page.locator("[data-selected-count]").inner_text() == f"All {MATCHING} matching selected"


def test_set_the_state_of_every_task_run_of_a_flow_run(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    flow_run, other_flow_run = create_flow_run(api), create_flow_run(api)
    runs = create_task_runs(api, MATCHING, flow_run_id=flow_run, state={"type": "RUNNING"})
    outside = create_task_runs(api, 2, flow_run_id=other_flow_run, state={"type": "RUNNING"})
    select_all_matching(page, f"{ui_server.url}/task-runs?flow_run={flow_run}")
    assert page.locator("input[name=flow_run]").input_value() == flow_run

    page.select_option("select[data-bulk-state]", "FAILED")
    page.click("button[data-bulk=state]")
    assert page.locator("#confirm-message").inner_text() == (
        f"Set all {MATCHING} task runs matching this filter to Failed?"
    )
    # Dismissing the confirmation changes nothing.
    page.locator("#confirm-dialog button[value=cancel]").click()
    assert {run["state_type"] for run in task_runs(api, {"flow_run_id": {"any_": [flow_run]}})} == {"RUNNING"}

    answer = confirm_bulk_action(page, "state", f"Set all {MATCHING} task runs matching this filter to Failed?")
    assert answer == f"Set {MATCHING} task runs matching this filter to Failed."
    assert "error" not in (page.locator("#flash").get_attribute("class") or "")
    assert page.locator("table.run-table tbody .badge.state-failed").count() == 50
    states = {run["id"]: (run["state_type"], run["state_name"]) for run in task_runs(api, {"id": {"any_": runs}})}
    assert set(states) == set(runs)
    assert set(states.values()) == {("FAILED", "Failed")}
    assert {run["state_type"] for run in task_runs(api, {"id": {"any_": outside}})} == {"RUNNING"}


def test_delete_every_task_run_matching_a_tag(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    tag, other = f"tbulk-{uuid.uuid4().hex[:8]}", f"tbulk-other-{uuid.uuid4().hex[:8]}"
    create_task_runs(api, MATCHING, tags=[tag], state={"type": "COMPLETED"})
    outside = create_task_runs(api, 2, tags=[other], state={"type": "COMPLETED"})
    select_all_matching(page, f"{ui_server.url}/task-runs?tag={tag}&state=COMPLETED")

    question = f"Delete all {MATCHING} task runs matching this filter? Their state histories are deleted too."
    answer = confirm_bulk_action(page, "delete", question)
    assert answer == f"Deleted {MATCHING} task runs matching this filter."
    assert page.locator("table.run-table tbody tr").count() == 0
    assert task_runs(api, {"tags": {"all_": [tag]}}) == []
    assert {run["id"] for run in task_runs(api, {"tags": {"all_": [other]}})} == set(outside)


def test_selected_task_runs_and_the_filters_in_the_url(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    """Rows ticked on the page are changed one by one; the tabs, the pager and the bad-filter page work as the flow
    runs' do."""
    tag = f"tbulk-{uuid.uuid4().hex[:8]}"
    create_task_runs(api, 3, tags=[tag], state={"type": "PENDING"})
    page.goto(f"{ui_server.url}/task-runs?tag={tag}&limit=2&sort=name_asc")
    assert page.locator("nav.tabs a[aria-current=page]").inner_text() == "Task runs"
    assert page.locator("table.run-table tbody tr").count() == 2
    follow(page, "next")
    assert page.locator("table.run-table tbody tr").count() == 1
    assert f"tag={tag}" in page.url and "limit=2" in page.url
    page.goto(f"{ui_server.url}/task-runs?tag={tag}")
    page.check("table.run-table tbody tr:first-child input[data-select-run]")
    page.check("table.run-table tbody tr:nth-child(2) input[data-select-run]")
    assert page.locator("[data-selected-count]").inner_text() == "2 selected"
    page.select_option("select[data-bulk-state]", "CANCELLED")
    assert confirm_bulk_action(page, "state", "Set 2 task runs to Cancelled?") == "Set 2 task runs to Cancelled."
    types = sorted(run["state_type"] for run in task_runs(api, {"tags": {"all_": [tag]}}))
    assert types == ["CANCELLED", "CANCELLED", "PENDING"]
    response = page.goto(f"{ui_server.url}/task-runs?state=LATE")
    # Task runs are never Late (a flow run's Scheduled state past its time): a filter on it says so.
    assert response.status == 400
    assert "There is no state 'LATE'" in page.locator("main").inner_text()
    page.browser_errors.expect("400")

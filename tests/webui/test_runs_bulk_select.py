"""Selecting every run that matches the Runs page's filter, beyond the page shown, and cancelling or deleting them all
through the bulk endpoints (which take the filter and at most 50 runs a call)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx

from tests.webui.bulk_actions import confirm_bulk_action
from tests.webui.conftest import UiServer

# More than a page of the table (50 rows) and than one bulk call (50 runs).
MATCHING = 56


def create_tagged_runs(api: httpx.Client, tag: str, count: int, state: dict[str, Any]) -> list[str]:
    flow_id = api.post("/flows", json={"name": "ui-bulk-select"}).raise_for_status().json()["id"]
    return [
        api.post("/flow_runs", json={"flow_id": flow_id, "name": f"{tag}-{n}", "tags": [tag], "state": state})
        .raise_for_status()
        .json()["id"]
        for n in range(count)
    ]


def tagged_runs(api: httpx.Client, tag: str) -> list[dict[str, Any]]:
    body = {"flow_runs": {"tags": {"all_": [tag]}}, "limit": 200}
    return api.post("/flow_runs/filter", json=body).raise_for_status().json()


def scheduled() -> dict[str, Any]:
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    return {"type": "SCHEDULED", "state_details": {"scheduled_time": when}}


def select_all_matching(page: Any, ui_server: UiServer, tag: str) -> None:
    page.goto(f"{ui_server.url}/runs?tag={tag}")
    assert page.locator("table.run-table tbody tr").count() == 50
    banner = page.locator("[data-select-matching]")
    assert banner.is_hidden()
    page.check("input[data-select-all]")
    offer = banner.locator("[data-select-matching-button]")
    offer.wait_for(state="visible")
    assert banner.locator("[data-select-matching-text]").inner_text() == "All 50 runs on this page are selected."
    assert offer.inner_text() == f"Select all {MATCHING} runs matching this filter"
    offer.click()
    assert banner.locator("[data-select-matching-text]").inner_text() == (
        f"All {MATCHING} runs matching this filter are selected."
    )
    assert page.locator("[data-selected-count]").inner_text() == f"All {MATCHING} matching selected"


def test_cancel_every_run_matching_the_filter(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    tag, other = f"bulk-{uuid.uuid4().hex[:8]}", f"bulk-other-{uuid.uuid4().hex[:8]}"
    runs = create_tagged_runs(api, tag, MATCHING - 1, scheduled())
    # A running run of a deployment is asked to cancel (Cancelling), so that whatever runs it stops it.
    flow_id = api.post("/flows", json={"name": "ui-bulk-select"}).raise_for_status().json()["id"]
    deployment = api.post("/deployments", json={"name": tag, "flow_id": flow_id}).raise_for_status().json()["id"]
    body = {"flow_id": flow_id, "deployment_id": deployment, "name": f"{tag}-running", "tags": [tag]}
    running = api.post("/flow_runs", json={**body, "state": {"type": "RUNNING"}}).raise_for_status().json()["id"]
    outside = create_tagged_runs(api, other, 2, scheduled())
    select_all_matching(page, ui_server, tag)

    # Dismissing the confirmation changes nothing.
    page.click("button[data-bulk=cancel]")
    assert page.locator("#confirm-message").inner_text() == f"Cancel all {MATCHING} runs matching this filter?"
    page.locator("#confirm-dialog button[value=cancel]").click()
    assert {run["state_type"] for run in tagged_runs(api, tag)} == {"SCHEDULED", "RUNNING"}

    # Unticking one run leaves the page's selection only; ticking all again offers the filter again.
    page.uncheck("table.run-table tbody tr:first-child input[data-select-run]")
    assert page.locator("[data-selected-count]").inner_text() == "49 selected"
    assert page.locator("[data-select-matching]").is_hidden()
    page.uncheck("input[data-select-all]")
    select_all_matching(page, ui_server, tag)

    answer = confirm_bulk_action(page, "cancel", f"Cancel all {MATCHING} runs matching this filter?")
    assert answer == f"Cancelled {MATCHING} runs matching this filter."
    assert "error" not in (page.locator("#flash").get_attribute("class") or "")
    assert page.locator("table.run-table tbody :is(.badge.state-cancelled, .badge.state-cancelling)").count() == 50

    states = {run["id"]: (run["state_type"], run["state_name"]) for run in tagged_runs(api, tag)}
    assert set(states) == {*runs, running}
    assert states.pop(running) == ("CANCELLING", "Cancelling")
    assert set(states.values()) == {("CANCELLED", "Cancelled")}
    assert {run["state_type"] for run in tagged_runs(api, other)} == {"SCHEDULED"}
    assert {run["id"] for run in tagged_runs(api, other)} == set(outside)


def test_delete_every_run_matching_the_filter(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    tag, other = f"bulk-{uuid.uuid4().hex[:8]}", f"bulk-other-{uuid.uuid4().hex[:8]}"
    create_tagged_runs(api, tag, MATCHING, {"type": "COMPLETED"})
    outside = create_tagged_runs(api, other, 2, {"type": "COMPLETED"})
    select_all_matching(page, ui_server, tag)

    question = f"Delete all {MATCHING} runs matching this filter? Their task runs and logs are deleted too."
    answer = confirm_bulk_action(page, "delete", question)
    assert answer == f"Deleted {MATCHING} runs matching this filter."
    assert page.locator("table.run-table tbody tr").count() == 0
    assert tagged_runs(api, tag) == []
    assert {run["id"] for run in tagged_runs(api, other)} == set(outside)


def test_finished_runs_are_not_offered_for_cancelling(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    """A filter on finished states cannot match a run to cancel: nothing is proposed, and the count says so."""
    tag = f"bulk-{uuid.uuid4().hex[:8]}"
    create_tagged_runs(api, tag, MATCHING, {"type": "COMPLETED"})
    page.goto(f"{ui_server.url}/runs?tag={tag}&state=COMPLETED")
    banner = page.locator("[data-select-matching]")
    assert banner.get_attribute("data-cancel-filter") == ""
    page.check("input[data-select-all]")
    banner.locator("[data-select-matching-button]").click()
    answer = confirm_bulk_action(page, "cancel", f"Cancel all {MATCHING} runs matching this filter?")
    assert answer == "Cancelled 0 runs matching this filter."
    assert {run["state_type"] for run in tagged_runs(api, tag)} == {"COMPLETED"}

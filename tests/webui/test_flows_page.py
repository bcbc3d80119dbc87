"""The Flows page and a flow's page in a real browser, over runs made by the Prefect client: counts, last and next
run, the flow's runs with the Runs page's filters and pages, and deleting a flow."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx

from tests.webui.conftest import UiServer, follow


def row_ids(page: Any) -> list[str]:
    rows = page.locator("table.run-table tbody tr")
    return [rows.nth(i).get_attribute("data-run-id") for i in range(rows.count())]


def flow_row(page: Any, name: str) -> Any:
    return page.locator(f'table.flow-table tr[data-flow-name="{name}"]')


def counts(row: Any) -> dict[str, str]:
    cells = row.locator("[data-count]")
    return {cells.nth(i).get_attribute("data-count"): cells.nth(i).inner_text() for i in range(cells.count())}


def test_flows_table_shows_counts_and_the_last_run(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str], api: httpx.Client
) -> None:
    response = page.goto(ui_server.url + "/flows")
    assert response.status == 200
    assert page.title() == "Flows · Baton"
    etl = flow_row(page, "etl")
    assert counts(etl) == {"total": "3", "COMPLETED": "2", "FAILED": "1", "CRASHED": "0", "CANCELLED": "0"}
    # The failed run started last.
    last = etl.locator("[data-last-run]")
    assert last.locator(".badge.state-failed").inner_text() == "Failed"
    assert last.locator("a").get_attribute("href") == f"/runs/flow-run/{seeded_runs['failed']}"
    assert re.search(r"ago|now", last.locator("time").inner_text())
    assert etl.locator("[data-next-run]").inner_text() == "None scheduled"

    report = flow_row(page, "report")
    assert counts(report)["total"] == "1" and counts(report)["COMPLETED"] == "1"
    assert report.locator("[data-last-run] .badge").inner_text() == "Completed"
    etl_id = api.get("/flows/name/etl").json()["id"]
    assert etl.locator("[data-count=FAILED] a").get_attribute("href") == f"/flows/{etl_id}?state=FAILED"


def test_next_run_is_the_soonest_scheduled_run_ahead(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    flow_id = api.post("/flows", json={"name": "ui-scheduled"}).raise_for_status().json()["id"]
    now = dt.datetime.now(dt.UTC)
    ids = {}
    for label, hours in (("later", 5), ("soon", 2), ("overdue", -1)):
        state = {
            "type": "SCHEDULED",
            "state_details": {"scheduled_time": (now + dt.timedelta(hours=hours)).isoformat()},
        }
        body = {"flow_id": flow_id, "name": label, "state": state}
        ids[label] = api.post("/flow_runs", json=body).raise_for_status().json()["id"]
    page.goto(ui_server.url + "/flows?name=ui-sched")
    row = flow_row(page, "ui-scheduled")
    assert page.locator("table.flow-table tbody tr").count() == 1
    assert row.locator("[data-next-run] a").get_attribute("href") == f"/runs/flow-run/{ids['soon']}"
    assert re.search(r"in 2 hours", row.locator("[data-next-run] time").inner_text())
    assert row.locator("[data-last-run]").inner_text() == "None yet"
    assert counts(row)["total"] == "3"


def test_flow_page_shows_its_runs_with_filters_and_pages(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str], api: httpx.Client
) -> None:
    page.goto(ui_server.url + "/flows")
    flow_row(page, "etl").locator("a.flow-name").click()
    etl_id = api.get("/flows/name/etl").json()["id"]
    page.wait_for_url(f"**/flows/{etl_id}")
    assert page.title() == "etl · Baton"
    assert page.locator("h1").inner_text() == "etl"
    etl_runs = {seeded_runs[label] for label in ("nightly-1", "nightly-2", "failed")}
    assert set(row_ids(page)) == etl_runs
    # No flow column on a flow's own page, and the flow filter is the page itself.
    assert page.locator("table.run-table thead th").all_inner_texts()[1:] == [
        "NAME", "STATE", "START TIME", "DURATION", "TAGS"
    ]  # fmt: skip
    assert page.locator("#run-filters select[name=flow]").count() == 0
    assert page.locator(".flow-summary [data-count=total]").inner_text() == "3"
    assert page.locator("[data-last-run] .badge").inner_text() == "Failed"

    page.check('#run-filters input[name=state][value="COMPLETED"]')
    page.click("#run-filters button[type=submit]")
    page.wait_for_url(re.compile(rf"/flows/{etl_id}\?state=COMPLETED"))
    assert set(row_ids(page)) == {seeded_runs["nightly-1"], seeded_runs["nightly-2"]}

    page.goto(f"{ui_server.url}/flows/{etl_id}?tag=adhoc")
    assert row_ids(page) == [seeded_runs["failed"]]

    page.goto(f"{ui_server.url}/flows/{etl_id}?limit=1&sort=start_asc")
    walked = row_ids(page)
    while page.locator("a[rel=next]").count():
        follow(page, "next")
        walked += row_ids(page)
    assert walked == [seeded_runs["nightly-1"], seeded_runs["nightly-2"], seeded_runs["failed"]]


def test_unknown_flow_is_a_404_page(page: Any, ui_server: UiServer) -> None:
    for path in ("/flows/not-an-id", "/flows/00000000-0000-0000-0000-000000000000"):
        response = page.goto(ui_server.url + path)
        assert response.status == 404
        assert page.title() == "Not found · Baton"
    page.browser_errors.expect("404")
    assert httpx.get(ui_server.url + "/flows?limit=abc").status_code == 400


def test_flows_are_paged_by_name(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    for number in range(3):
        api.post("/flows", json={"name": f"ui-paged-{number}"}).raise_for_status()
    page.goto(ui_server.url + "/flows?name=ui-paged&limit=2")
    names = page.locator("a.flow-name").all_inner_texts()
    follow(page, "next")
    names += page.locator("a.flow-name").all_inner_texts()
    assert names == ["ui-paged-0", "ui-paged-1", "ui-paged-2"]
    assert page.locator("a[rel=next]").count() == 0
    follow(page, "prev")
    assert page.locator("a.flow-name").all_inner_texts() == ["ui-paged-0", "ui-paged-1"]
    page.goto(ui_server.url + "/flows?name=no-such-flow")
    assert page.locator(".empty-list").inner_text() == "No flow's name contains “no-such-flow”."


def test_delete_flow_from_its_page(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    flow_id = api.post("/flows", json={"name": "ui-doomed-flow"}).raise_for_status().json()["id"]
    page.goto(f"{ui_server.url}/flows/{flow_id}")
    assert page.locator(".empty-list").inner_text() == "No runs yet."
    page.click("button:has-text('Delete flow')")
    assert "ui-doomed-flow" in page.locator("#confirm-message").inner_text()
    page.click("#confirm-ok")
    page.wait_for_url(re.compile(r"/flows$"))
    assert flow_row(page, "ui-doomed-flow").count() == 0
    assert api.get(f"/flows/{flow_id}").status_code == 404

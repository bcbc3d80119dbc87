"""The Runs page in a real browser, over runs made by the Prefect client: filters in the URL, keyset pages, escaping,
bulk cancel and delete, and readable errors for bad parameters."""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest

from tests.webui.conftest import UiServer, follow

HTML_RUN_NAME = "<b>bold</b> & <script>alert('x')</script>"


def row_ids(page: Any) -> list[str]:
    rows = page.locator("table.run-table tbody tr")
    return [rows.nth(i).get_attribute("data-run-id") for i in range(rows.count())]


def all_run_ids(api: httpx.Client) -> set[str]:
    return {run["id"] for run in api.post("/flow_runs/filter", json={"limit": 200}).raise_for_status().json()}


def create_run(api: httpx.Client, flow: str, name: str, state: dict[str, Any]) -> str:
    flow_id = api.post("/flows", json={"name": flow}).raise_for_status().json()["id"]
    body = {"flow_id": flow_id, "name": name, "state": state}
    return str(api.post("/flow_runs", json=body).raise_for_status().json()["id"])


def scheduled_state(hours: float = 1.0) -> dict[str, Any]:
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()
    return {"type": "SCHEDULED", "state_details": {"scheduled_time": when}}


def test_runs_table_lists_runs_with_their_flow_state_and_escaped_names(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str]
) -> None:
    response = page.goto(ui_server.url + "/runs")
    assert response.status == 200
    assert page.title() == "Runs · Baton"
    assert set(row_ids(page)) == set(seeded_runs.values())
    assert page.locator("#run-count").inner_text() == "Showing 4 runs · 4 runs match"

    html_row = page.locator(f'tr[data-run-id="{seeded_runs["html"]}"]')
    link = html_row.locator("a.run-name")
    assert link.inner_text() == HTML_RUN_NAME
    assert link.get_attribute("href") == f"/runs/flow-run/{seeded_runs['html']}"
    # The name is text: no element was made from it anywhere on the page.
    assert page.locator("main b, main script").count() == 0
    assert html_row.locator("td").nth(2).inner_text() == "report"
    assert html_row.locator(".badge").inner_text() == "Completed"

    failed_row = page.locator(f'tr[data-run-id="{seeded_runs["failed"]}"]')
    assert failed_row.locator(".badge.state-failed").inner_text() == "Failed"
    assert failed_row.locator("a.tag").all_inner_texts() == ["adhoc"]
    assert re.fullmatch(r"\d+(\.\d)?s|\d+ms", failed_row.locator("td.num").inner_text())
    # Start times are shown in the browser's time zone (Europe/Berlin).
    assert re.search(r"GMT\+1|CET", failed_row.locator("time").inner_text())


def test_filter_by_state_with_the_checkboxes_makes_a_shareable_url(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str]
) -> None:
    page.goto(ui_server.url + "/runs")
    page.check('#run-filters input[name=state][value="FAILED"]')
    page.click("#run-filters button[type=submit]")
    page.wait_for_url(re.compile(r"state=FAILED"))
    # Empty fields stay out of the URL.
    assert parse_qs(urlparse(page.url).query) == {"state": ["FAILED"], "sort": ["start_desc"]}
    assert row_ids(page) == [seeded_runs["failed"]]
    assert page.locator('#run-filters input[value="FAILED"]').is_checked()

    page.goto(ui_server.url + "/runs?state=COMPLETED&state=failed")
    assert set(row_ids(page)) == set(seeded_runs.values())
    page.goto(ui_server.url + "/runs?state=RUNNING")
    assert row_ids(page) == []
    assert page.locator(".empty-list").inner_text() == "No runs match these filters."


def test_filter_by_tag_by_clicking_a_tag_and_by_flow(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str], api: httpx.Client
) -> None:
    page.goto(ui_server.url + "/runs")
    page.locator(f'tr[data-run-id="{seeded_runs["nightly-1"]}"] a.tag').click()
    page.wait_for_url(re.compile(r"tag=nightly"))
    assert set(row_ids(page)) == {seeded_runs["nightly-1"], seeded_runs["nightly-2"]}
    assert page.locator("#run-filters input[name=tag]").input_value() == "nightly"

    report = api.get("/flows/name/report").raise_for_status().json()["id"]
    page.goto(ui_server.url + "/runs")
    page.select_option("#run-filters select[name=flow]", label="report")
    page.click("#run-filters button[type=submit]")
    page.wait_for_url(re.compile(f"flow={report}"))
    assert row_ids(page) == [seeded_runs["html"]]


def test_name_search_is_a_case_insensitive_substring(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str], api: httpx.Client
) -> None:
    page.goto(ui_server.url + "/runs")
    page.fill("#run-filters input[name=name]", "BOLD</b> &")
    page.press("#run-filters input[name=name]", "Enter")
    page.wait_for_url(re.compile(r"name="))
    assert row_ids(page) == [seeded_runs["html"]]
    assert page.locator("#run-filters input[name=name]").input_value() == "BOLD</b> &"
    failed_name = api.get(f"/flow_runs/{seeded_runs['failed']}").json()["name"]
    page.goto(ui_server.url + "/runs?name=" + failed_name[2:-2].upper())
    assert row_ids(page) == [seeded_runs["failed"]]


def test_date_range_is_entered_in_local_time_and_sent_in_utc(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str]
) -> None:
    page.goto(ui_server.url + "/runs")
    page.fill("input[data-utc-field=from]", "2026-03-01T12:00")
    page.fill("input[data-utc-field=to]", "2026-03-02T12:00")
    page.click("#run-filters button[type=submit]")
    page.wait_for_url(re.compile(r"from="))
    query = parse_qs(urlparse(page.url).query)
    # Berlin is UTC+1 in March; "until" includes the whole minute.
    assert query["from"] == ["2026-03-01T11:00:00.000Z"] and query["to"] == ["2026-03-02T11:00:59.999Z"]
    assert page.locator("input[data-utc-field=from]").input_value() == "2026-03-01T12:00"
    assert row_ids(page) == []

    # A range around now holds every seeded run; one starting tomorrow holds none.
    now = dt.datetime.now(dt.UTC)
    around = {"from": (now - dt.timedelta(hours=2)).isoformat(), "to": (now + dt.timedelta(minutes=5)).isoformat()}
    page.goto(ui_server.url + "/runs?" + urlencode(around))
    assert set(row_ids(page)) == set(seeded_runs.values())
    tomorrow = (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    page.goto(ui_server.url + "/runs?from=" + tomorrow)
    assert row_ids(page) == []


def test_pages_of_one_run_walk_every_run_once_both_ways(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str], api: httpx.Client
) -> None:
    expected = all_run_ids(api)
    for sort in ("start_desc", "name_asc"):
        page.goto(f"{ui_server.url}/runs?limit=1&sort={sort}")
        forward = row_ids(page)
        assert page.locator("a[rel=prev]").count() == 0
        while page.locator("a[rel=next]").count():
            follow(page, "next")
            forward += row_ids(page)
        assert len(forward) == len(set(forward)) and set(forward) == expected, sort
        assert "limit=1" in page.url and f"sort={sort}" in page.url

        backward = row_ids(page)
        while page.locator("a[rel=prev]").count():
            follow(page, "prev")
            backward += row_ids(page)
        assert backward == list(reversed(forward)), sort
    assert page.locator("a[rel=next]").inner_text() == "Next →"

    # Newest first: the order of the API's start-time sort.
    page.goto(f"{ui_server.url}/runs?limit=2")
    assert page.locator("a[rel=next]").inner_text() == "Older →"
    by_start = api.post("/flow_runs/filter", json={"sort": "START_TIME_DESC", "limit": 2}).json()
    assert row_ids(page) == [run["id"] for run in by_start]


def test_a_late_run_has_its_own_badge_and_filter(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    late = create_run(api, "ui-late", "overdue", {**scheduled_state(-1), "name": "Late"})
    page.goto(ui_server.url + "/runs?state=LATE")
    assert row_ids(page) == [late]
    badge = page.locator(f'tr[data-run-id="{late}"] .badge')
    assert badge.inner_text() == "Late" and "state-late" in badge.get_attribute("class")
    assert page.locator('#run-filters input[value="LATE"]').is_checked()
    api.delete(f"/flow_runs/{late}").raise_for_status()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("state=NOPE", "There is no state 'NOPE'"),
        ("limit=abc", "The 'limit' parameter must be a whole number, not 'abc'."),
        ("limit=201", "The 'limit' parameter must be between 1 and 200."),
        ("flow=not-an-id", "The 'flow' parameter must be an id"),
        ("from=yesterday", "The 'from' parameter must be a time"),
        ("sort=sideways", "There is no sort 'sideways'"),
        ("after=bm9wZQ", "The page link is not valid"),
        ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "The start of the date range is after its end."),
    ],
)
def test_bad_parameters_are_a_readable_400_page(ui_server: UiServer, query: str, message: str) -> None:
    response = httpx.get(f"{ui_server.url}/runs?{query}")
    assert response.status_code == 400, response.text[:300]
    assert "<title>Bad request · Baton</title>" in response.text
    assert message in html.unescape(response.text)


def test_bad_parameter_page_in_the_browser(page: Any, ui_server: UiServer) -> None:
    response = page.goto(ui_server.url + "/runs?state=<b>NOPE</b>")
    assert response.status == 400
    page.browser_errors.expect("400")
    assert page.title() == "Bad request · Baton"
    assert page.locator("main b").count() == 0
    assert "There is no state '<B>NOPE</B>'" in page.locator("main").inner_text()


def select_rows(page: Any, *run_ids: str) -> None:
    for run_id in run_ids:
        page.check(f'tr[data-run-id="{run_id}"] input[data-select-run]')


@pytest.mark.both_databases
def test_bulk_cancel_cancels_a_scheduled_run_and_reports_a_finished_one(
    page: Any, ui_server: UiServer, api: httpx.Client
) -> None:
    scheduled = create_run(api, "ui-bulk-cancel", "to-cancel", scheduled_state())
    finished = create_run(api, "ui-bulk-cancel", "already-done", {"type": "COMPLETED"})
    flow_id = api.get("/flows/name/ui-bulk-cancel").json()["id"]
    page.goto(f"{ui_server.url}/runs?flow={flow_id}")
    assert set(row_ids(page)) == {scheduled, finished}
    cancel = page.locator("button[data-bulk=cancel]")
    assert cancel.is_disabled()

    # Dismissing the dialog changes nothing.
    select_rows(page, scheduled)
    assert page.locator("[data-selected-count]").inner_text() == "1 selected"
    cancel.click()
    page.locator("#confirm-dialog button[value=cancel]").click()
    assert api.get(f"/flow_runs/{scheduled}").json()["state"]["type"] == "SCHEDULED"

    select_rows(page, finished)
    cancel.click()
    assert page.locator("#confirm-message").inner_text() == "Cancel 2 runs?"
    page.click("#confirm-ok")
    flash = page.locator("#flash")
    flash.wait_for(state="visible")
    assert flash.inner_text() == "Cancelled 1 run. Not cancelled: already-done: it has already finished"
    assert "error" in flash.get_attribute("class")
    assert page.locator(f'tr[data-run-id="{scheduled}"] .badge').inner_text() == "Cancelled"

    state = api.get(f"/flow_runs/{scheduled}").json()["state"]
    assert (state["type"], state["name"]) == ("CANCELLED", "Cancelled")
    assert api.get(f"/flow_runs/{finished}").json()["state"]["type"] == "COMPLETED"
    page.reload()
    assert page.locator(f'tr[data-run-id="{scheduled}"] .badge.state-cancelled').inner_text() == "Cancelled"


def test_bulk_delete_deletes_the_selected_runs(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    doomed = [create_run(api, "ui-bulk-delete", f"doomed-{n}", {"type": "COMPLETED"}) for n in range(2)]
    kept = create_run(api, "ui-bulk-delete", "kept", {"type": "FAILED"})
    flow_id = api.get("/flows/name/ui-bulk-delete").json()["id"]
    page.goto(f"{ui_server.url}/runs?flow={flow_id}")
    page.check("input[data-select-all]")
    page.uncheck(f'tr[data-run-id="{kept}"] input[data-select-run]')
    assert page.locator("input[data-select-all]").evaluate("box => box.indeterminate")
    page.click("button[data-bulk=delete]")
    assert page.locator("#confirm-message").inner_text().startswith("Delete 2 runs?")
    page.click("#confirm-ok")
    page.locator("#flash").wait_for(state="visible")
    assert page.locator("#flash").inner_text() == "Deleted 2 runs."
    assert row_ids(page) == [kept]
    for run_id in doomed:
        assert api.get(f"/flow_runs/{run_id}").status_code == 404
    page.reload()
    assert row_ids(page) == [kept]


def test_unknown_run_id_in_a_cursor_is_still_a_page(ui_server: UiServer) -> None:
    # A cursor whose run was deleted meanwhile still pages from its position.
    token = base64.urlsafe_b64encode(json.dumps(["2000-01-01T00:00:00+00:00", str(uuid.uuid4())]).encode()).decode()
    response = httpx.get(f"{ui_server.url}/runs?before={token.rstrip('=')}")
    assert response.status_code == 200
    assert "First page" in response.text


@pytest.mark.both_databases
def test_save_the_current_filter_reapply_it_and_delete_it(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    name = "<i>failed</i> & nightly"
    page.goto(ui_server.url + "/runs?state=FAILED&state=CRASHED&tag=nightly")
    page.fill("#save-search input[name=saved-search-name]", name)
    page.click("#save-search button[type=submit]")
    item = page.locator("#saved-searches li", has_text="failed")
    item.wait_for()
    assert item.locator("a").inner_text() == name  # escaped: the name is text
    assert page.locator("#saved-searches i").count() == 0
    (saved,) = [s for s in api.post("/saved_searches/filter", json={}).raise_for_status().json() if s["name"] == name]
    by_property = {f["property"]: (f["operation"], f["value"]) for f in saved["filters"]}
    assert by_property == {"state": ("any", ["FAILED", "CRASHED"]), "tag": ("equals", "nightly")}

    page.goto(ui_server.url + "/runs")
    page.locator("#saved-searches li", has_text="failed").locator("a").click()
    page.wait_for_url(re.compile(r"tag=nightly"))
    assert parse_qs(urlparse(page.url).query) == {"state": ["FAILED", "CRASHED"], "tag": ["nightly"]}
    assert page.locator('#run-filters input[value="FAILED"]').is_checked()

    page.locator("#saved-searches li", has_text="failed").locator("button").click()
    assert page.locator("#confirm-message").inner_text() == f"Delete the saved search {name}?"
    page.click("#confirm-ok")
    page.locator("#saved-searches li").first.wait_for(state="detached")
    assert api.get(f"/saved_searches/{saved['id']}").status_code == 404


def test_saving_without_a_usable_name_shows_the_apis_reason(page: Any, ui_server: UiServer) -> None:
    page.goto(ui_server.url + "/runs?state=FAILED")
    page.fill("#save-search input[name=saved-search-name]", "   ")
    page.click("#save-search button[type=submit]")
    flash = page.locator("#flash")
    flash.wait_for()
    assert "name" in flash.inner_text()
    page.browser_errors.expect("422")

"""The dashboard in a real browser, over runs made by the Prefect client: counts, chart, lists, window, tag."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import httpx

from tests.webui.conftest import UiServer


def state_counts(page: Any, panel: str) -> dict[str, int]:
    items = page.locator(f"{panel} li.dashboard-count")
    return {
        items.nth(i).get_attribute("data-state"): int(items.nth(i).locator("[data-count]").inner_text())
        for i in range(items.count())
    }


def bar_totals(page: Any) -> Counter[str]:
    """Counts per state type read from the chart's bar tooltips ("3 Completed, 10:00–11:00")."""
    totals: Counter[str] = Counter()
    for title in page.locator(".chart svg rect.bar title").all_text_contents():
        found = re.match(r"(\d+) (\w+), .+–.+", title)
        assert found, title
        totals[found.group(2).upper()] += int(found.group(1))
    return totals


def task_run_counts(api: httpx.Client) -> Counter[str]:
    task_runs = api.post("/task_runs/filter", json={"limit": 200}).raise_for_status().json()
    return Counter(run["state"]["type"] for run in task_runs if run["state"])


def test_dashboard_counts_chart_and_failed_run(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str], api: httpx.Client
) -> None:
    response = page.goto(ui_server.url + "/")
    assert response.status == 200
    assert page.title() == "Dashboard · Baton"
    assert page.locator(".window-picker [aria-current=page]").inner_text() == "Last day"

    counts = state_counts(page, "#flow-run-activity")
    assert {state: n for state, n in counts.items() if n} == {"COMPLETED": 3, "FAILED": 1}
    assert page.locator('#flow-run-activity li[data-state="FAILED"] a').get_attribute("href") == "/runs?state=FAILED"

    svg = page.locator(".chart svg")
    assert svg.get_attribute("role") == "img"
    assert svg.get_attribute("aria-label") == "4 flow runs: 3 Completed, 1 Failed."
    assert page.locator(".chart svg g.bucket").count() == 24
    assert bar_totals(page) == Counter({"COMPLETED": 3, "FAILED": 1})
    # Colours come from the state palette (a CSS class on each segment), in both themes.
    fill = page.eval_on_selector(".chart rect.state-failed", "bar => getComputedStyle(bar).fill")
    assert fill == "rgb(201, 42, 42)"

    # Three etl runs of three extract and three load tasks each; the report run has none.
    expected_tasks = task_run_counts(api)
    assert sum(expected_tasks.values()) == 18
    tasks = state_counts(page, "#task-run-counts")
    assert tasks == dict(expected_tasks)
    assert "18 task runs" in page.locator("#task-run-counts").inner_text()

    failed_link = page.locator(f'#failed-runs a[href="/runs/flow-run/{seeded_runs["failed"]}"]')
    assert failed_link.count() == 1
    assert "etl" in page.locator("#failed-runs tbody tr").first.inner_text()
    assert "No late runs" in page.locator("#late-runs").inner_text()

    # The run named with HTML is text: no element made from it, its name shown as typed.
    latest = page.locator("#latest-runs")
    assert "<b>bold</b> & <script>alert('x')</script>" in latest.inner_text()
    assert latest.locator("b, script").count() == 0
    assert page.locator(f'#latest-runs a[href="/runs/flow-run/{seeded_runs["html"]}"]').count() == 1


def test_window_switch_keeps_counts_and_changes_buckets(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str]
) -> None:
    page.goto(ui_server.url + "/")
    page.click(".window-picker a[data-window=hour]")
    page.wait_for_url(re.compile(r"window=hour"))
    assert page.locator(".window-picker [aria-current=page]").inner_text() == "Last hour"
    assert page.locator(".chart svg g.bucket").count() == 12
    assert bar_totals(page) == Counter({"COMPLETED": 3, "FAILED": 1})

    page.click(".window-picker a[data-window=week]")
    page.wait_for_url(re.compile(r"window=week"))
    assert page.locator(".chart svg g.bucket").count() == 28
    assert state_counts(page, "#flow-run-activity")["COMPLETED"] == 3
    # Time labels are localized (the browser is in Europe/Berlin) and name the day on a week's chart.
    first_label = page.locator(".chart svg text.x-label").first.text_content()
    assert re.search(r"[A-Z][a-z]{2}", first_label), first_label


def test_tag_filter_and_bad_window(page: Any, ui_server: UiServer, seeded_runs: dict[str, str]) -> None:
    page.goto(ui_server.url + "/?window=week")
    page.fill("#dashboard-tag", "adhoc")
    page.click("#dashboard-filters button[type=submit]")
    page.wait_for_url(re.compile(r"tag=adhoc"))
    assert "window=week" in page.url
    counts = state_counts(page, "#flow-run-activity")
    assert {state: n for state, n in counts.items() if n} == {"FAILED": 1}
    assert "6 task runs" in page.locator("#task-run-counts").inner_text()
    assert page.locator('#flow-run-activity li[data-state="FAILED"] a').get_attribute("href") == (
        "/runs?state=FAILED&tag=adhoc"
    )
    page.click("#dashboard-clear-tag")
    page.wait_for_url(re.compile(r"/\?window=week$"))
    assert state_counts(page, "#flow-run-activity")["COMPLETED"] == 3

    page.goto(ui_server.url + "/?tag=%3Cb%3Ex%3C%2Fb%3E")
    assert "No flow runs in this period." in page.locator("#latest-runs").inner_text()
    assert page.locator("#flow-run-activity .tag").inner_text() == "<b>x</b>"

    response = page.goto(ui_server.url + "/?window=year")
    assert response.status == 400
    page.browser_errors.expect("400")
    assert "hour, day, week" in page.locator("main").inner_text()


def test_late_run_is_listed_and_linked(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    # Runs last in this module: it adds a run that the counts above do not expect.
    flow = api.post("/flows/", json={"name": "nightly-report"}).raise_for_status().json()
    scheduled = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).isoformat()
    state = {"type": "SCHEDULED", "name": "Late", "state_details": {"scheduled_time": scheduled}}
    body = {"flow_id": flow["id"], "name": "overdue-<i>run</i>", "state": state}
    run = api.post("/flow_runs/", json=body).raise_for_status().json()
    assert run["state"]["name"] == "Late"

    page.goto(ui_server.url + "/?window=hour")
    late = page.locator("#late-runs")
    assert late.locator(f'a[href="/runs/flow-run/{run["id"]}"]').inner_text() == "overdue-<i>run</i>"
    assert late.locator("i").count() == 0
    assert late.locator('a[href="/runs?state=LATE"]').count() == 1
    assert state_counts(page, "#flow-run-activity")["SCHEDULED"] == 1

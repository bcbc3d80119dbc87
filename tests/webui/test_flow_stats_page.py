"""A flow's page in a real browser: its runs over time as a chart by state for a chosen window, and per deployment
the runs, success rate and p50/p90/p99 run time, over runs made by the Prefect client and through the API."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from baton.webui.formatting import duration
from tests.webui.conftest import UiServer


def _finish(api: httpx.Client, run_id: str, state_type: str) -> None:
    for state in ("RUNNING", state_type):
        response = api.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": state}, "force": True})
        assert response.json()["status"] == "ACCEPT", response.text


def _percentile(durations: list[float], percent: int) -> float:
    ordered = sorted(durations)
    return ordered[math.ceil(len(ordered) * percent / 100) - 1]


def _stats(row: Any) -> dict[str, str]:
    cells = row.locator("[data-stat]")
    return {cells.nth(i).get_attribute("data-stat"): cells.nth(i).inner_text() for i in range(cells.count())}


@pytest.mark.both_databases
def test_flow_page_charts_its_runs_and_rates_each_deployment(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str], api: httpx.Client
) -> None:
    etl = api.get("/flows/name/etl").json()
    deployment = api.post("/deployments/", json={"name": "ui-stats", "flow_id": etl["id"]}).json()
    made = []
    for state_type in ("COMPLETED", "COMPLETED", "FAILED", None):
        run = api.post(f"/deployments/{deployment['id']}/create_flow_run", json={}).json()
        made.append(run["id"])
        if state_type:
            _finish(api, run["id"], state_type)
    runs = api.post("/flow_runs/filter", json={"flows": {"id": {"any_": [etl["id"]]}}}).json()
    by_deployment: dict[str | None, list[dict[str, Any]]] = {}
    for run in runs:
        by_deployment.setdefault(run["deployment_id"], []).append(run)

    page.goto(ui_server.url + f"/flows/{etl['id']}?window=day")
    chart = page.locator("#flow-activity svg.stacked-bars")
    assert chart.count() == 1
    bars = chart.locator("rect[data-count]")
    drawn: dict[str, int] = {}
    for i in range(bars.count()):
        state = bars.nth(i).get_attribute("data-state")
        drawn[state] = drawn.get(state, 0) + int(bars.nth(i).get_attribute("data-count"))
    assert drawn == {"COMPLETED": 4, "FAILED": 2, "SCHEDULED": 1}
    assert page.locator('#flow-activity [data-window="day"]').get_attribute("aria-current") == "page"

    row = page.locator('#deployment-stats tr[data-deployment="ui-stats"]')
    assert row.locator("a").get_attribute("href") == f"/deployments/{deployment['id']}"
    finished = [run["total_run_time"] for run in by_deployment[deployment["id"]] if run["state_type"] != "SCHEDULED"]
    assert len(finished) == 3
    stats = _stats(row)
    assert stats["runs"] == "3" and stats["success"] == "67% of 3"
    assert {key: stats[key] for key in ("p50", "p90", "p99")} == {
        f"p{percent}": duration(_percentile(finished, percent)) for percent in (50, 90, 99)
    }

    # The Prefect client's runs of the flow, made without a deployment: two completed, one failed.
    loose = _stats(page.locator('#deployment-stats tr[data-deployment=""]'))
    client_durations = [run["total_run_time"] for run in by_deployment[None]]
    assert loose["runs"] == "3" and loose["success"] == "67% of 3"
    assert loose["p50"] == duration(_percentile(client_durations, 50))
    assert loose["p99"] == duration(max(client_durations))

    page.click('#flow-activity [data-window="hour"]')
    page.wait_for_url(f"**/flows/{etl['id']}?window=hour")
    assert page.locator('#flow-activity [data-window="hour"]').get_attribute("aria-current") == "page"
    assert page.locator("#flow-activity svg.stacked-bars g.bucket").count() == 12
    # The chart's tooltips are rewritten in the reader's clock by the dashboard's script.
    title = page.locator("#flow-activity svg.stacked-bars rect[data-count] title").first.text_content()
    assert "UTC" not in title


def test_an_unknown_window_is_refused(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    flow = api.post("/flows/", json={"name": "ui-stats-window"}).json()
    response = page.goto(ui_server.url + f"/flows/{flow['id']}?window=year")
    assert response.status == 400
    assert "The window must be one of hour, day, week, not 'year'." in page.content()
    page.browser_errors.expect("status of 400")
    page.goto(ui_server.url + f"/flows/{flow['id']}")
    assert "The flow has no deployments and no runs started in this window." in page.inner_text("#flow-activity")

"""The flow run page's "Why isn't this run starting?" panel in a real browser: shown with its blockers and links on
a Late run in a paused pool (and passing axe-core), hidden once the live page shows another state, absent on a
finished run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.webui.axe import axe_script, check_page
from tests.webui.conftest import UiServer


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _deployment_run(api: httpx.Client, pool: str, state: dict[str, Any]) -> str:
    flow = _created(api.post("/flows/", json={"name": f"{pool}-flow"}))
    deployment = _created(
        api.post("/deployments/", json={"name": f"{pool}-deployment", "flow_id": flow["id"], "work_pool_name": pool})
    )
    run = _created(api.post(f"/deployments/{deployment['id']}/create_flow_run", json={"state": state}))
    return str(run["id"])


def test_a_late_run_in_a_paused_pool_says_why(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    _created(api.post("/work_pools/", json={"name": "night-shift", "is_paused": True}))
    an_hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    run_id = _deployment_run(
        api, "night-shift", {"type": "SCHEDULED", "name": "Late", "state_details": {"scheduled_time": an_hour_ago}}
    )
    page.goto(f"{ui_server.url}/runs/flow-run/{run_id}")
    panel = page.locator("#run-blockers")
    assert panel.locator("h2").inner_text().startswith("Why isn't this run starting?")
    assert panel.locator("#blockers-summary").inner_text() == "The run is Late; 2 things hold it back."
    paused = panel.locator("[data-blocker-kind=work_pool_paused]")
    assert paused.inner_text().startswith("Work pool 'night-shift' is paused since ")
    assert paused.locator("a").first.get_attribute("href") == "/work-pools/night-shift"
    unpolled = panel.locator("[data-blocker-kind=no_worker_polled]")
    assert "No worker has ever polled work queue 'default' of work pool 'night-shift'." in unpolled.inner_text()
    assert panel.locator("#blockers-json").get_attribute("href") == f"/api/flow_runs/{run_id}/blockers"
    failures = check_page(page, axe_script(), [], route="flow-run-blockers")
    assert not failures, "\n".join(failures)
    # The panel explains the state the page was rendered in: once the live page shows another, it goes.
    forced = api.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": "RUNNING"}, "force": True})
    assert forced.status_code == 201, forced.text
    page.wait_for_function("document.getElementById('run-blockers').hidden")
    assert page.locator("#run-state").get_attribute("data-state-type") == "RUNNING"


def test_a_finished_run_has_no_panel(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    _created(api.post("/work_pools/", json={"name": "day-shift", "is_paused": True}))
    run_id = _deployment_run(api, "day-shift", {"type": "COMPLETED"})
    page.goto(f"{ui_server.url}/runs/flow-run/{run_id}")
    assert page.locator("#run-state").get_attribute("data-state-type") == "COMPLETED"
    assert page.locator("#run-blockers").count() == 0

"""The task run page in a real browser: state, inputs, state history, filtered logs, the other runs of a mapped task,
the link from the flow run page, and the not-found page for a bad id."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.webui.conftest import UiServer


def task_runs_of(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    response = api.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [run_id]}}})
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def nightly_task_runs(seeded_runs: dict[str, str], api: httpx.Client) -> list[dict[str, Any]]:
    """The six task runs of the seeded nightly-1 run (three `extract`, three `load`), once the events pipeline has
    recorded them."""
    deadline = time.monotonic() + 30
    while len(runs := task_runs_of(api, seeded_runs["nightly-1"])) < 6:
        if time.monotonic() > deadline:
            pytest.fail("the seeded task runs were not recorded")
        time.sleep(0.2)
    return runs


def extract_runs(task_runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [run for run in task_runs if run["name"].startswith("extract")]


def test_page_shows_state_inputs_history_and_logs(
    page: Any, ui_server: UiServer, api: httpx.Client, nightly_task_runs: list[dict[str, Any]]
) -> None:
    task_run = extract_runs(nightly_task_runs)[0]
    response = page.goto(f"{ui_server.url}/task-runs/{task_run['id']}")
    assert response.status == 200
    assert page.locator("#run-name").inner_text() == task_run["name"]
    assert page.locator("#run-state .badge").inner_text() == "Completed"
    assert json.loads(page.locator("#task-run-inputs").inner_text()) == task_run["task_inputs"]
    assert "batch" in task_run["task_inputs"]
    history = page.locator("#state-history tbody tr td:nth-child(2)").all_inner_texts()
    assert history[0] == "Completed"  # newest first
    assert "Running" in history and "Pending" in history
    assert history.index("Running") < history.index("Pending")
    states = api.get("/task_run_states/", params={"task_run_id": task_run["id"]}).json()
    assert len(history) == len(states)
    messages = page.locator("#log-lines .log-message").all_inner_texts()
    assert messages[0].startswith("extracted batch ") and "Finished in state Completed()" in messages
    flow_link = page.locator("#task-run-flow-run a")
    assert flow_link.get_attribute("href") == f"/runs/flow-run/{task_run['flow_run_id']}"

    page.goto(f"{ui_server.url}/task-runs/{task_run['id']}?level=WARNING")
    assert page.locator("#log-lines .log-message").count() == 0
    assert page.locator("#log-empty").inner_text() == "No log lines match."
    page.goto(f"{ui_server.url}/task-runs/{task_run['id']}?q=extracted")
    assert page.locator("#log-lines .log-message").all_inner_texts() == [messages[0]]


def test_mapped_task_lists_its_siblings(
    page: Any, ui_server: UiServer, nightly_task_runs: list[dict[str, Any]]
) -> None:
    extracts = extract_runs(nightly_task_runs)
    assert len({run["task_key"] for run in extracts}) == 1 and len(extracts) == 3
    page.goto(f"{ui_server.url}/task-runs/{extracts[0]['id']}")
    links = page.locator("#task-run-siblings tbody a")
    hrefs = {links.nth(index).get_attribute("href") for index in range(links.count())}
    assert hrefs == {f"/task-runs/{run['id']}" for run in extracts[1:]}
    links.first.click()
    page.wait_for_url(f"{ui_server.url}/task-runs/*")
    assert page.locator("#run-name").inner_text().startswith("extract")
    assert f"/task-runs/{extracts[0]['id']}" in {
        page.locator("#task-run-siblings tbody a").nth(index).get_attribute("href") for index in range(2)
    }


def test_flow_run_page_links_to_task_run_page(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str], nightly_task_runs: list[dict[str, Any]]
) -> None:
    page.goto(f"{ui_server.url}/runs/flow-run/{seeded_runs['nightly-1']}?tab=task-runs")
    link = page.locator("#task-runs tbody a").first
    name = link.inner_text()
    link.click()
    page.wait_for_url(f"{ui_server.url}/task-runs/*")
    assert page.locator("#run-name").inner_text() == name
    task_run_id = page.url.rsplit("/", 1)[1]
    assert task_run_id in {run["id"] for run in nightly_task_runs}


@pytest.mark.parametrize("bad_id", ["not-a-uuid", str(uuid.uuid4())])
def test_bad_id_is_not_found(page: Any, ui_server: UiServer, bad_id: str) -> None:
    response = page.goto(f"{ui_server.url}/task-runs/{bad_id}")
    page.browser_errors.expect("404")
    assert response.status == 404
    assert page.title() == "Not found · Baton"

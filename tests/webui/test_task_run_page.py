"""The task run page in a real browser: state, inputs, state history, filtered logs, the other runs of a mapped task,
the link from the flow run page, and the not-found page for a bad id."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
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


@pytest.mark.both_databases
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


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "00000000-0000-4000-8000-00000000beef"])
def test_bad_id_is_not_found(page: Any, ui_server: UiServer, bad_id: str) -> None:
    response = page.goto(f"{ui_server.url}/task-runs/{bad_id}")
    page.browser_errors.expect("404")
    assert response.status == 404
    assert page.title() == "Not found · Baton"


def create_running_task_run(api: httpx.Client) -> tuple[str, str]:
    """A running task run in a running flow run, made through the API: (flow run id, task run id)."""
    flow = api.post("/flows", json={"name": "ui-task-run-page"}).json()
    flow_run = api.post("/flow_runs", json={"flow_id": flow["id"], "state": {"type": "RUNNING"}}).json()
    task_run = api.post(
        "/task_runs",
        json={
            "name": "follow-me",
            "flow_run_id": flow_run["id"],
            "task_key": "follow-me-key",
            "dynamic_key": "0",
            "state": {"type": "RUNNING"},
        },
    )
    task_run.raise_for_status()
    return flow_run["id"], task_run.json()["id"]


def log_line(flow_run_id: str, task_run_id: str | None, message: str, level: int = 20) -> dict[str, Any]:
    return {
        "name": "test",
        "level": level,
        "message": message,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "flow_run_id": flow_run_id,
        "task_run_id": task_run_id,
    }


def read_events(lines: Iterator[str], wanted: Callable[[list[tuple[str, Any]]], bool]) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    name, data = "message", ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and data:
            events.append((name, json.loads(data)))
            name, data = "message", ""
            if wanted(events):
                break
    return events


def test_stream_sends_the_task_runs_own_lines_and_state(ui_server: UiServer, api: httpx.Client) -> None:
    flow_run_id, task_run_id = create_running_task_run(api)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    url = f"{ui_server.url}/task-runs/{task_run_id}/stream"
    with httpx.stream("GET", url, params={"since": since.isoformat()}, timeout=20) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        lines = [log_line(flow_run_id, None, "the flow's line"), log_line(flow_run_id, task_run_id, "the task's line")]
        assert api.post("/logs", json=lines).status_code == 201
        stream = response.iter_lines()
        events = read_events(stream, lambda events: any(name == "logs" for name, _ in events))
        assert events[0][0] == "state" and events[0][1]["type"] == "RUNNING"
        logs = [data for name, data in events if name == "logs"][0]
        assert [line["message"] for line in logs] == ["the task's line"]

        api.post(f"/task_runs/{task_run_id}/set_state", json={"state": {"type": "COMPLETED"}, "force": True})
        events = read_events(stream, lambda events: events[-1][0] == "end")
        assert [data["type"] for name, data in events if name == "state"] == ["COMPLETED"]
    assert httpx.get(f"{ui_server.url}/task-runs/{uuid.uuid4()}/stream").status_code == 404


def test_page_of_a_running_task_run_follows_new_lines(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    flow_run_id, task_run_id = create_running_task_run(api)
    page.goto(f"{ui_server.url}/task-runs/{task_run_id}")
    assert page.locator("#log-live-status").inner_text() == "Following new lines…"
    lines = [log_line(flow_run_id, None, "not mine"), log_line(flow_run_id, task_run_id, "<b>live</b> line")]
    assert api.post("/logs", json=lines).status_code == 201
    page.locator("#log-lines .log-message", has_text="<b>live</b> line").wait_for(timeout=10_000)
    assert page.locator("#log-lines .log-message").all_inner_texts() == ["<b>live</b> line"]
    api.post(f"/task_runs/{task_run_id}/set_state", json={"state": {"type": "COMPLETED"}, "force": True})
    page.locator("#run-state .badge", has_text="Completed").wait_for(timeout=10_000)

"""The flow run page while its run goes on, in a real browser against a real server: task runs added and changing
state through the API show in the task-run table, the counts and the timeline without a reload; a log line stamped
long before the newest one shown takes its place in time; the page's one stream ends when the run does."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.webui.conftest import UiServer
from tests.webui.test_flow_run_page import create_run, log_texts, read_events

# Page loads and stream looks (every 0.5 s) are quick; a loaded machine shares two cores among several test runs.
LIVE_TIMEOUT_MS = 20_000


def create_task_run(api: httpx.Client, flow_run_id: str, name: str, state: str) -> str:
    body = {"flow_run_id": flow_run_id, "task_key": name, "dynamic_key": "0", "name": name, "state": {"type": state}}
    response = api.post("/task_runs", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


def set_task_run_state(api: httpx.Client, task_run_id: str, state: str) -> None:
    response = api.post(f"/task_runs/{task_run_id}/set_state", json={"state": {"type": state}, "force": True})
    response.raise_for_status()
    assert response.json()["status"] == "ACCEPT"


def finish(api: httpx.Client, flow_run_id: str) -> None:
    response = api.post(f"/flow_runs/{flow_run_id}/set_state", json={"state": {"type": "COMPLETED"}, "force": True})
    response.raise_for_status()


def table_rows(page: Any) -> dict[str, str]:
    """Task-run table: name -> state badge."""
    rows = page.locator("#task-runs tbody tr")
    return {
        row.locator("td a").inner_text(): row.locator(".badge").inner_text()
        for row in (rows.nth(index) for index in range(rows.count()))
    }


@pytest.mark.both_databases
def test_task_runs_counts_and_timeline_follow_the_run(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    run_id = create_run(api, {"type": "RUNNING"})
    extract = create_task_run(api, run_id, "extract", "PENDING")
    page.goto(f"{ui_server.url}/runs/flow-run/{run_id}?tab=task-runs")
    page.evaluate("window.marker = 1")
    assert table_rows(page) == {"extract": "Pending"}
    assert page.locator("#tab-count-task-runs").inner_text() == "1"
    assert page.locator("#task-run-state-counts").inner_text() == "Pending 1"
    assert "not started" in page.locator("#run-timeline svg").text_content()

    set_task_run_state(api, extract, "RUNNING")
    load = create_task_run(api, run_id, "<b>load</b>", "PENDING")
    page.wait_for_function(
        "document.querySelectorAll('#task-runs tbody tr').length === 2"
        " && document.querySelector('#run-timeline svg rect.tl-running') !== null",
        timeout=LIVE_TIMEOUT_MS,
    )
    assert table_rows(page) == {"extract": "Running", "<b>load</b>": "Pending"}
    assert page.locator("#task-runs b").count() == 0  # the name is text
    assert page.locator("#tab-count-task-runs").inner_text() == "2"
    assert page.locator("#task-run-state-counts .badge").all_inner_texts() == ["Pending 1", "Running 1"]
    assert page.locator(f"#task-runs a[href='/task-runs/{load}']").count() == 1

    assert page.locator("#tab-count-subflows").inner_text() == "0"
    # A subflow run started from `load`: counted when its parent task run next changes.
    create_run(api, {"type": "RUNNING"}, parent_task_run_id=load)
    set_task_run_state(api, extract, "COMPLETED")
    set_task_run_state(api, load, "FAILED")
    page.wait_for_function(
        "document.querySelectorAll('#run-timeline svg rect.tl-completed, #run-timeline svg rect.tl-failed').length"
        " === 2",
        timeout=LIVE_TIMEOUT_MS,
    )
    assert table_rows(page) == {"extract": "Completed", "<b>load</b>": "Failed"}
    assert page.locator("#task-run-state-counts .badge").all_inner_texts() == ["Completed 1", "Failed 1"]
    assert page.locator("#tab-count-subflows").inner_text() == "1"
    labels = page.locator("#run-timeline svg .tl-label title").all_text_contents()
    assert sorted(labels) == ["<b>load</b>", "extract"]

    finish(api, run_id)
    page.wait_for_function("document.getElementById('run-live').dataset.ended === 'true'", timeout=LIVE_TIMEOUT_MS)
    assert page.locator("#run-state .badge").inner_text() == "Completed"
    assert page.locator("#run-end time").count() == 1
    assert page.evaluate("window.marker") == 1  # nothing reloaded
    # The final state is the page's own: a reload shows the same table and counts.
    page.reload()
    assert table_rows(page) == {"extract": "Completed", "<b>load</b>": "Failed"}
    assert page.locator("#task-run-state-counts .badge").all_inner_texts() == ["Completed 1", "Failed 1"]
    assert page.locator("#run-live").count() == 0


def post_line(api: httpx.Client, flow_run_id: str, message: str, timestamp: dt.datetime) -> None:
    line = {
        "name": "test",
        "level": 20,
        "message": message,
        "timestamp": timestamp.isoformat(),
        "flow_run_id": flow_run_id,
    }
    assert api.post("/logs", json=[line]).status_code == 201


def test_late_log_line_takes_its_place_in_time(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    run_id = create_run(api, {"type": "RUNNING"})
    newest = dt.datetime.now(dt.UTC)
    post_line(api, run_id, "early", newest - dt.timedelta(seconds=60))
    post_line(api, run_id, "newest", newest)
    page.goto(f"{ui_server.url}/runs/flow-run/{run_id}")
    page.evaluate("window.marker = 1")
    assert log_texts(page) == ["early", "newest"]

    # Stamped 30 s before the newest line shown (a client that buffered it): it arrives now.
    post_line(api, run_id, "late", newest - dt.timedelta(seconds=30))
    post_line(api, run_id, "after", newest + dt.timedelta(seconds=1))
    page.wait_for_function("document.querySelectorAll('#log-lines .log-line').length === 4", timeout=LIVE_TIMEOUT_MS)
    assert log_texts(page) == ["early", "late", "newest", "after"]
    post_line(api, run_id, "first of all", newest - dt.timedelta(hours=1))
    page.wait_for_function("document.querySelectorAll('#log-lines .log-line').length === 5", timeout=LIVE_TIMEOUT_MS)
    assert log_texts(page) == ["first of all", "early", "late", "newest", "after"]
    # The counts and the timeline follow the task runs on every tab, not only the task-run table's.
    assert page.locator("#run-timeline").inner_text() == "This run has no task runs yet."
    create_task_run(api, run_id, "extract", "RUNNING")
    page.wait_for_function(
        "document.getElementById('tab-count-task-runs').textContent === '1'"
        " && document.querySelector('#run-timeline svg rect.tl-running') !== null",
        timeout=LIVE_TIMEOUT_MS,
    )
    assert page.locator("#task-run-state-counts").inner_text() == "Running 1"
    assert page.evaluate("window.marker") == 1

    finish(api, run_id)
    page.wait_for_function("document.getElementById('run-live').dataset.ended === 'true'", timeout=LIVE_TIMEOUT_MS)
    assert page.locator("#log-live-status").inner_text() == ""


def stream_lines(ui_server: UiServer, run_id: str, since: dt.datetime) -> Iterator[Iterator[str]]:
    url = f"{ui_server.url}/runs/flow-run/{run_id}/stream"
    params = {"since": since.isoformat(), "logs": "0", "table": "1"}
    with httpx.stream("GET", url, params=params, timeout=20) as response:
        assert response.status_code == 200
        yield response.iter_lines()


def test_stream_sends_task_runs_then_the_timeline_and_ends(ui_server: UiServer, api: httpx.Client) -> None:
    run_id = create_run(api, {"type": "RUNNING"})
    since = dt.datetime.now(dt.UTC)
    for lines in stream_lines(ui_server, run_id, since):
        task_run_id = create_task_run(api, run_id, "<i>square</i>", "RUNNING")
        events = read_events(lines, lambda events: events[-1][0] == "timeline")
        changes = [data for name, data in events if name == "task_runs"]
        assert [row["id"] for change in changes for row in change["rows"]] == [task_run_id]
        change = changes[-1]
        assert change["counts"] == {"RUNNING": 1} and change["total"] == 1 and change["subflows"] == 0
        assert change["counts_html"] == '<span class="badge state-running">Running 1</span>'
        html = change["rows"][0]["html"]
        assert html.startswith(f'<tr data-id="{task_run_id}" data-sort="')
        assert "&lt;i&gt;square&lt;/i&gt;" in html and "<i>" not in html
        timeline = events[-1][1]["html"]
        assert timeline.startswith("<svg") and 'class="tl-bar tl-running tl-live"' in timeline
        assert "&lt;i&gt;square&lt;/i&gt;" in timeline and "<i>" not in timeline

        set_task_run_state(api, task_run_id, "COMPLETED")
        finish(api, run_id)
        events = read_events(lines, lambda events: events[-1][0] == "end")
        names = [name for name, _ in events]
        # The task run's last change and the final state come first; the final timeline before the end.
        assert names[-2:] == ["timeline", "end"] and "state" in names
        final = [data for name, data in events if name == "task_runs"][-1]
        assert final["counts"] == {"COMPLETED": 1}
        assert "tl-completed" in events[-2][1]["html"] and "tl-running" not in events[-2][1]["html"]
        assert json.dumps(events[-1][1]) == '{"reason": "finished"}'

"""The flow run page in a real browser: header, timeline, tabs, log filters and download, the live tail of a running
flow, actions, escaping and errors; and its Server-Sent Events stream over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton.server.database.engine import Database
from baton.server.models.runs.states import set_task_run_state
from baton.server.models.runs.task_runs import create_task_run
from baton.server.schemas.actions import TaskRunCreate
from baton.server.schemas.states import StateCreate
from baton.states import StateType
from tests.webui.conftest import FLOWS_DIR, UiServer, start_flow_script

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def wait_for(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {check}")
        time.sleep(interval)


def task_runs_of(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    response = api.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [run_id]}}})
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def nightly(seeded_runs: dict[str, str], api: httpx.Client) -> str:
    """The seeded nightly-1 run, once the events pipeline has recorded its six task runs."""
    run_id = seeded_runs["nightly-1"]
    wait_for(lambda: len(task_runs_of(api, run_id)) == 6)
    return run_id


def create_run(api: httpx.Client, state: dict[str, Any], **fields: Any) -> str:
    flow = api.post("/flows", json={"name": "ui-flow-run-page"})
    flow.raise_for_status()
    response = api.post("/flow_runs", json={"flow_id": flow.json()["id"], "state": state, **fields})
    response.raise_for_status()
    return str(response.json()["id"])


def log_texts(page: Any) -> list[str]:
    return page.locator("#log-lines .log-message").all_inner_texts()


def test_seeded_run_shows_header_timeline_task_runs_and_logs(
    page: Any, ui_server: UiServer, api: httpx.Client, nightly: str
) -> None:
    run = api.get(f"/flow_runs/{nightly}").json()
    response = page.goto(f"{ui_server.url}/runs/flow-run/{nightly}")
    assert response.status == 200
    assert page.title() == f"{run['name']} · Baton"
    assert page.locator("#run-state .badge").inner_text() == "Completed"
    flow_link = page.locator(".run-facts a", has_text="etl")
    assert flow_link.get_attribute("href") == f"/flows/{run['flow_id']}"
    assert page.locator(".run-facts .tag").all_inner_texts() == ["nightly"]
    assert json.loads(page.locator(".run-parameters pre").inner_text()) == {"fail": False}
    assert re.fullmatch(r"\d+(\.\d)?s|\d+ms", page.locator("#run-duration").inner_text())

    # The timeline: one bar per task run (three extract and three load calls stay below the mapping threshold).
    labels = page.locator("svg.timeline .tl-label").all_text_contents()
    assert sorted(label.split("-")[0] for label in labels) == ["extract"] * 3 + ["load"] * 3
    assert page.locator("svg.timeline rect.tl-completed").count() == 6
    # The timeline's JSON view is the run graph the Prefect UI draws, of the same task runs.
    json_link = page.locator("#timeline-json").get_attribute("href")
    assert json_link == f"/api/flow_runs/{nightly}/graph-v2"
    graph = api.get(json_link.removeprefix("/api")).raise_for_status().json()
    task_runs = api.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [nightly]}}}).json()
    assert sorted(node["label"] for _, node in graph["nodes"]) == sorted(run["name"] for run in task_runs)
    assert len(graph["nodes"]) == 6
    assert {(node["kind"], node["state_type"]) for _, node in graph["nodes"]} == {("task-run", "COMPLETED")}

    messages = log_texts(page)
    assert "etl starting" in messages and "extracted batch 0" in messages and "loading batch 2" in messages
    assert page.locator("#run-live").count() == 0  # a finished run is not followed

    page.click("nav.tabs >> text=Task runs")
    rows = page.locator("#task-runs tbody tr")
    assert rows.count() == 6
    names = sorted(row.split("\t")[0] for row in rows.all_inner_texts())
    assert [name.split("-")[0] for name in names] == ["extract"] * 3 + ["load"] * 3
    assert page.locator("#task-runs .badge").all_inner_texts() == ["Completed"] * 6

    page.click("nav.tabs >> text=State history")
    assert page.locator("#state-history .badge").all_inner_texts()[-2:] == ["Running", "Completed"]
    page.click("nav.tabs >> text=Parameters & details")
    assert page.locator("#run-details").inner_text().count(nightly) == 1
    for tab in ("subflows", "artifacts"):
        assert page.goto(f"{ui_server.url}/runs/flow-run/{nightly}?tab={tab}").status == 200


def test_subflow_and_artifact_tabs(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    parent = create_run(api, {"type": "RUNNING"})
    task = api.post("/task_runs", json={"flow_run_id": parent, "task_key": "child", "dynamic_key": "child-0"})
    task.raise_for_status()
    child = create_run(api, {"type": "COMPLETED"}, name="<u>child</u>", parent_task_run_id=task.json()["id"])
    artifact = {
        "key": "nightly-report",
        "type": "markdown",
        "description": "<b>numbers</b>",
        "data": "# hi",
        "flow_run_id": parent,
    }
    assert api.post("/artifacts", json=artifact).status_code == 201

    page.goto(f"{ui_server.url}/runs/flow-run/{parent}?tab=subflows")
    assert page.locator("nav.tabs a.current").inner_text() == "Subflow runs 1"
    link = page.locator("#subflow-runs a")
    assert link.inner_text() == "<u>child</u>" and link.get_attribute("href") == f"/runs/flow-run/{child}"
    page.click("nav.tabs >> text=Artifacts")
    cells = page.locator("#run-artifacts tbody td").all_inner_texts()
    assert cells[:3] == ["nightly-report", "markdown", "<b>numbers</b>"]
    assert page.locator("main u, main #run-artifacts b").count() == 0
    assert page.locator("#run-artifacts a", has_text="Open").get_attribute("href").startswith("/artifacts/")


def test_level_filter_and_search(page: Any, ui_server: UiServer, nightly: str) -> None:
    page.goto(f"{ui_server.url}/runs/flow-run/{nightly}")
    assert "INFO" in page.locator("#log-lines .log-level").all_inner_texts()
    with page.expect_navigation():
        page.select_option("#log-level", "WARNING")
    assert "level=WARNING" in page.url
    assert set(page.locator("#log-lines .log-level").all_inner_texts()) == {"WARNING"}
    assert sorted(log_texts(page)) == [f"loading batch {batch}" for batch in range(3)]

    page.fill("#log-search", "batch 1")
    with page.expect_navigation():
        page.click("#log-filters button[type=submit]")
    assert log_texts(page) == ["loading batch 1"]
    # The download link keeps the filter.
    assert (
        page.locator("#log-download").get_attribute("href")
        == f"/runs/flow-run/{nightly}/logs.txt?level=WARNING&q=batch+1"
    )

    page.select_option("#log-level", "")
    page.wait_for_url(re.compile(r"level=&"))
    assert sorted(log_texts(page)) == ["extracted batch 1", "loading batch 1"]
    page.fill("#log-search", "no such text")
    with page.expect_navigation():
        page.press("#log-search", "Enter")
    assert page.locator("#log-empty").inner_text() == "No log lines match."


def test_log_download_is_plain_text_attachment(ui_server: UiServer, nightly: str, api: httpx.Client) -> None:
    response = httpx.get(f"{ui_server.url}/runs/flow-run/{nightly}/logs.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    run_name = api.get(f"/flow_runs/{nightly}").json()["name"]
    assert response.headers["content-disposition"] == f'attachment; filename="{run_name}-logs.txt"'
    lines = response.text.splitlines()
    pattern = re.compile(r"^\d{4}-\d\d-\d\dT\S+\+00:00 (INFO|WARNING) prefect\.(flow_runs|task_runs) .+$")
    assert lines and all(pattern.match(line) for line in lines), lines
    assert any(line.endswith(" INFO prefect.flow_runs etl starting") for line in lines)
    stamps = [line.split(" ", 1)[0] for line in lines]
    assert stamps == sorted(stamps)
    warnings = httpx.get(f"{ui_server.url}/runs/flow-run/{nightly}/logs.txt", params={"level": "WARNING"})
    assert sorted(line.split(" ", 3)[3] for line in warnings.text.splitlines()) == [
        f"loading batch {batch}" for batch in range(3)
    ]
    assert httpx.get(f"{ui_server.url}/runs/flow-run/{uuid.uuid4()}/logs.txt").status_code == 404


# The live run logs LIVE_LINES lines, one every LIVE_INTERVAL_SECONDS: 6 s in all, long enough that the page opens
# while it runs and sees lines arrive (a page loads in well under a second; the client sends logs every 2 s), short
# enough not to idle a test worker (it was 10 s).
LIVE_INTERVAL_SECONDS = 0.25
LIVE_LINES = 24


@pytest.fixture
def live_run(ui_server: UiServer, api: httpx.Client, tmp_path: Path) -> Iterator[str]:
    """A live-logs flow run (a line every LIVE_INTERVAL_SECONDS, LIVE_LINES lines), once it is Running."""
    process = start_flow_script(
        ui_server, tmp_path, FLOWS_DIR / "live_logs.py", str(LIVE_INTERVAL_SECONDS), str(LIVE_LINES)
    )
    try:
        body = {
            "flows": {"name": {"any_": ["live-logs"]}},
            "flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}},
        }
        runs = wait_for(lambda: api.post("/flow_runs/filter", json=body).json(), timeout=60)
        yield runs[0]["id"]
        _, errors = process.communicate(timeout=90)
        assert process.returncode == 0, errors
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_live_run_gets_new_lines_and_its_final_state_without_reload(
    page: Any, ui_server: UiServer, live_run: str
) -> None:
    page.goto(f"{ui_server.url}/runs/flow-run/{live_run}")
    assert page.locator("#run-state .badge").inner_text() == "Running"
    page.evaluate("window.marker = 1")
    first = page.locator("#log-lines .log-line").count()
    page.wait_for_function(f"document.querySelectorAll('#log-lines .log-line').length >= {first + 3}", timeout=20_000)
    assert page.evaluate("window.marker") == 1  # the same document: nothing reloaded
    page.wait_for_function("document.querySelector('#run-state .badge').textContent === 'Completed'", timeout=60_000)
    # The last lines arrive after the final state; the stream waits for them before it ends. Counted as ticks: the
    # engine's own lines ("Beginning flow run", "Finished in state") made a count of all lines reach 40 before the
    # last tick had arrived, and the check below failed on a loaded machine (2026-12-07).
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#log-lines .log-message'))"
        f".filter((line) => line.textContent.startsWith('tick ')).length >= {LIVE_LINES}",
        timeout=20_000,
    )
    assert page.evaluate("window.marker") == 1
    ticks = [text for text in log_texts(page) if text.startswith("tick ")]
    assert ticks == [f"tick {number}" for number in range(LIVE_LINES)]  # each line once, in order
    assert page.locator("#run-end time").count() == 1
    # The duration follows the final state (the ticks' time, less a tick's rounding), and a finished run offers no
    # Cancel.
    duration = float(page.locator("#run-duration").inner_text().removesuffix("s"))
    assert duration >= (LIVE_LINES - 1) * LIVE_INTERVAL_SECONDS
    assert page.locator("[data-run-action=cancel]").is_hidden()


def test_html_named_run_shows_its_name_and_log_as_text(
    page: Any, ui_server: UiServer, seeded_runs: dict[str, str]
) -> None:
    page.goto(f"{ui_server.url}/runs/flow-run/{seeded_runs['html']}")
    name = "<b>bold</b> & <script>alert('x')</script>"
    assert page.locator("h1#run-name").inner_text() == name
    assert page.title() == f"{name} · Baton"
    assert "<i>not italic</i>" in log_texts(page)
    assert page.locator("main b, main i, main script").count() == 0


def test_cancel_moves_a_scheduled_run_to_cancelled(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    run_id = create_run(api, {"type": "SCHEDULED"})
    page.goto(f"{ui_server.url}/runs/flow-run/{run_id}")
    assert page.locator("#run-state .badge").inner_text() == "Scheduled"
    page.click("[data-run-action=cancel]")
    assert page.locator("#confirm-message").inner_text() == "Cancel this run?"
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator("#run-state .badge").inner_text() == "Cancelled"
    assert api.get(f"/flow_runs/{run_id}").json()["state"]["type"] == "CANCELLED"
    assert page.locator("[data-run-action=cancel]").count() == 0


def test_change_state_form_and_retry(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    run_id = create_run(api, {"type": "RUNNING"})
    page.goto(f"{ui_server.url}/runs/flow-run/{run_id}")
    page.click("[data-run-action=show-change-state]")
    page.select_option("#change-state-type", "FAILED")
    page.fill("#change-state-message", "stopped by hand")
    page.click("#change-state button[type=submit]")
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator("#run-state .badge").inner_text() == "Failed"
    assert page.locator(".run-state-message").inner_text() == "stopped by hand"
    # Without a deployment nothing would run the retry: the button says so instead of acting.
    assert page.locator("[data-run-action=retry]").is_disabled()

    flow_id = api.get(f"/flow_runs/{run_id}").json()["flow_id"]
    deployment = api.post("/deployments", json={"name": "ui-retry", "flow_id": flow_id})
    deployment.raise_for_status()
    retried = create_run(api, {"type": "FAILED"}, deployment_id=deployment.json()["id"])
    page.goto(f"{ui_server.url}/runs/flow-run/{retried}")
    page.click("[data-run-action=retry]")
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator("#run-state .badge").inner_text() == "AwaitingRetry"
    state = api.get(f"/flow_runs/{retried}").json()["state"]
    assert (state["type"], state["name"]) == ("SCHEDULED", "AwaitingRetry")


def test_refused_transition_is_explained(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    run_id = create_run(api, {"type": "CANCELLING"})
    page.goto(f"{ui_server.url}/runs/flow-run/{run_id}")
    # A cancelling run may only become Cancelled; the Cancel button is for runs that can be cancelled.
    assert page.locator("[data-run-action=cancel]").count() == 0
    response = api.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": "RUNNING"}})
    assert response.json()["status"] == "REJECT"
    page.click("[data-run-action=show-change-state]")
    page.select_option("#change-state-type", "COMPLETED")
    page.click("#change-state button[type=submit]")
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator("#run-state .badge").inner_text() == "Completed"


def test_delete_goes_back_to_runs(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    run_id = create_run(api, {"type": "COMPLETED"})
    page.goto(f"{ui_server.url}/runs/flow-run/{run_id}")
    page.click("button:has-text('Delete')")
    with page.expect_navigation(url=f"{ui_server.url}/runs"):
        page.click("#confirm-ok")
    assert api.get(f"/flow_runs/{run_id}").status_code == 404


@pytest.mark.parametrize("run_id", ["not-a-uuid", "6cef7d5b-d688-45cb-9211-f2061aa05706", "%3Cb%3Ex%3C%2Fb%3E"])
def test_malformed_or_unknown_id_is_a_404_page(page: Any, ui_server: UiServer, run_id: str) -> None:
    response = page.goto(f"{ui_server.url}/runs/flow-run/{run_id}")
    page.browser_errors.expect("404")
    assert response.status == 404
    assert page.title() == "Not found · Baton"
    assert page.locator("main b").count() == 0


def test_bad_log_filter_is_a_400_page(page: Any, ui_server: UiServer, nightly: str) -> None:
    response = page.goto(f"{ui_server.url}/runs/flow-run/{nightly}?level=LOUD")
    page.browser_errors.expect("400")
    assert response.status == 400
    assert "The level must be one of" in page.locator("main").inner_text()


def insert_task_runs(database_url: str, flow_run_id: str, count: int) -> None:
    """`count` mapped task runs of `flow_run_id` (every tenth Failed, the rest Completed), written in one transaction
    by the model functions the task-run API calls, instead of `count` POSTs: this is data for the page, and creating
    task runs over HTTP is tested in tests/server/api."""

    async def insert() -> None:
        database = Database(database_url)
        try:
            async with database.write() as connection:
                for number in range(count):
                    run = TaskRunCreate(
                        flow_run_id=uuid.UUID(flow_run_id),
                        task_key="square-key",
                        dynamic_key=str(number),
                        name=f"square-{number}",
                    )
                    row, created, parent = await create_task_run(connection, run)
                    assert created
                    state = StateCreate(type=StateType.COMPLETED if number % 10 else StateType.FAILED)
                    await set_task_run_state(connection, row["id"], state, force=True, row=row, parent_flow_run=parent)
        finally:
            await database.dispose()

    # Playwright's sync API keeps an event loop running in this thread, so the insert runs on a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, insert()).result()


def test_thousand_mapped_task_runs_collapse_and_render_fast(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    run_id = create_run(api, {"type": "RUNNING"})
    insert_task_runs(ui_server.database_url, run_id, 1000)
    assert api.post("/task_runs/count", json={"flow_runs": {"id": {"any_": [run_id]}}}).json() == 1000
    started = time.monotonic()
    html = httpx.get(f"{ui_server.url}/runs/flow-run/{run_id}")
    elapsed = time.monotonic() - started
    assert html.status_code == 200
    assert elapsed < 2.0, f"the page took {elapsed:.2f} s"
    page.goto(f"{ui_server.url}/runs/flow-run/{run_id}?tab=task-runs")
    row = page.locator("svg.timeline g.tl-collapsed")
    assert row.count() == 1
    assert "square × 1,000" in row.text_content()
    assert page.locator("#task-runs tbody tr").count() == 100
    assert page.locator(".pager").inner_text().count("Page 1 of 10") == 1


def read_events(lines: Iterator[str], wanted: Callable[[list[tuple[str, Any]]], bool]) -> list[tuple[str, Any]]:
    """Server-Sent Events (name, JSON data) from the stream's `lines` until `wanted` says enough."""
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


def test_stream_sends_new_lines_state_changes_and_ends(ui_server: UiServer, api: httpx.Client) -> None:
    run_id = create_run(api, {"type": "RUNNING"})
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    url = f"{ui_server.url}/runs/flow-run/{run_id}/stream"
    with httpx.stream("GET", url, params={"since": since.isoformat(), "level": "WARNING"}, timeout=20) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        now = dt.datetime.now(dt.UTC).isoformat()
        lines = [
            {"name": "test", "level": level, "message": message, "timestamp": now, "flow_run_id": run_id}
            for level, message in ((20, "quiet"), (30, "<b>loud</b>"))
        ]
        assert api.post("/logs", json=lines).status_code == 201
        stream = response.iter_lines()
        events = read_events(stream, lambda events: any(name == "logs" for name, _ in events))
        logs = [data for name, data in events if name == "logs"][0]
        assert [(line["level"], line["message"]) for line in logs] == [("WARNING", "<b>loud</b>")]
        assert events[0][0] == "state" and events[0][1]["type"] == "RUNNING"  # the page's state id was not given

        api.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": "COMPLETED"}, "force": True})
        started = time.monotonic()
        events = read_events(stream, lambda events: events[-1][0] == "end")
        assert [data["type"] for name, data in events if name == "state"] == ["COMPLETED"]
        assert events[-1] == ("end", {"reason": "finished"})
        assert 2.0 < time.monotonic() - started < 8.0  # it waits for late log lines, then ends
    assert httpx.get(f"{ui_server.url}/runs/flow-run/{uuid.uuid4()}/stream").status_code == 404

"""The official Prefect client under a tag concurrency limit: 10 tasks tagged `db`, a `tag:db` limit of 2."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from tests.acceptance.conftest import FlowRunner
from tests.acceptance.task_runs import wait_for_task_runs

pytestmark = pytest.mark.slow


# One database for this module (tests/databases.py on_one_database): Slot contention between processes is a networked
# deployment's concern; the lock statements of both databases run in
# tests/server/api/test_concurrency_slots_stress.py.
ONE_DATABASE = "postgresql"
LIMIT = 2
TASKS = 10


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of [start, end) intervals that overlap at any moment."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in events:  # at equal times an end (-1) sorts before a start (+1)
        running += change
        peak = max(peak, running)
    return peak


def state_times(api: httpx.Client, task_run_id: str) -> tuple[float, float]:
    """When the task run entered Running and when it entered Completed, per its recorded state history."""
    response = api.get("/task_run_states/", params={"task_run_id": task_run_id})
    assert response.status_code == 200, response.text
    times = {state["name"]: datetime.fromisoformat(state["timestamp"]).timestamp() for state in response.json()}
    return times["Running"], times["Completed"]


def test_tag_limit_bounds_concurrent_task_runs(api: httpx.Client, run_flow: FlowRunner) -> None:
    created = api.post("/concurrency_limits/", json={"tag": "db", "concurrency_limit": LIMIT})
    assert created.status_code in (200, 201), created.text

    outcome = run_flow("tagged_db_tasks", "0.5")
    seen_by_tasks: dict[str, list[float]] = outcome["result"]
    assert len(seen_by_tasks) == TASKS
    # What the task bodies saw: never more than LIMIT running at once, and the limit was actually reached.
    assert most_at_once([(start, end) for start, end in seen_by_tasks.values()]) == LIMIT

    # What the server recorded: the Running..Completed windows of the task runs overlap at most LIMIT deep.
    runs = wait_for_task_runs(api, outcome["flow_run_id"], TASKS)
    assert {run["id"] for run in runs} == set(seen_by_tasks)
    assert all("db" in run["tags"] for run in runs)
    windows = [state_times(api, run["id"]) for run in runs]
    assert most_at_once(windows) <= LIMIT

    # Every slot came back once the flow finished.
    limit = api.get("/v2/concurrency_limits/tag:db").json()
    assert limit["active_slots"] == 0
    assert api.get("/concurrency_limits/tag/db").json()["active_slots"] == []

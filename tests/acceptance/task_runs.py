"""Checks on the task runs a Prefect client flow reported through the events pipeline."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.acceptance.conftest import FlowRunner

# The client reports task runs as events; the server records them shortly after. Prefect itself flushes every 5 s.
RECORD_WITHIN_SECONDS = 20.0


def wait_for_task_runs(api: httpx.Client, flow_run_id: str, expected: int) -> list[dict[str, Any]]:
    """The flow run's task runs once `expected` of them are recorded in a final state."""
    body = {"flow_runs": {"id": {"any_": [flow_run_id]}}, "limit": 200}
    deadline = time.monotonic() + RECORD_WITHIN_SECONDS
    while True:
        runs = api.post("/task_runs/filter", json=body).json()
        if len(runs) >= expected and all(run["state_type"] == "COMPLETED" for run in runs):
            return runs
        if time.monotonic() > deadline:
            states = sorted((run["name"], run["state_name"]) for run in runs)
            raise AssertionError(f"{len(runs)} of {expected} task runs recorded in time: {states}")
        time.sleep(0.2)


def task_run_history(api: httpx.Client, task_run_id: str) -> list[str]:
    response = api.get("/task_run_states/", params={"task_run_id": task_run_id})
    assert response.status_code == 200, response.text
    states = sorted(response.json(), key=lambda state: datetime.fromisoformat(state["timestamp"]))
    return [state["name"] for state in states]


def check_fifty_task_flow(api: httpx.Client, run_flow: FlowRunner, markers: Path) -> None:
    """Run `fifty_tasks` and check that all 50 task runs exist with their whole history, in order."""
    markers.mkdir(exist_ok=True)
    outcome = run_flow("fifty_tasks", str(markers))
    kinds: dict[str, str] = outcome["result"]
    assert len(kinds) == 50
    runs = {run["id"]: run for run in wait_for_task_runs(api, outcome["flow_run_id"], 50)}
    assert set(runs) == set(kinds)
    for task_run_id, kind in kinds.items():
        run = runs[task_run_id]
        history = task_run_history(api, task_run_id)
        assert run["flow_run_id"] == outcome["flow_run_id"]
        if kind == "retried":
            # retry_delay_seconds=0: the client goes straight from the failed attempt to Retrying.
            assert history == ["Pending", "Running", "Retrying", "Completed"], history
            assert run["run_count"] == 2
        else:
            assert history == ["Pending", "Running", "Completed"], history
            assert run["run_count"] == 1
        assert ("db" in run["tags"]) == (kind == "tagged")

"""The official Prefect 3 client runs real flows against the server; each test reads the effects back over HTTP.

Run against the real Prefect server with BATON_ACCEPTANCE_SERVER=prefect to check that the assertions themselves
describe Prefect's behaviour.

The plain run and the fifty concurrent task runs (SQLite's single writer under a real client's load) run on both
databases; the other flows' SQL (retries, subflows, logs, failures, notifications) the server and actor tests run on
both, so each of those flow processes (about 2 s of CPU) runs on PostgreSQL only.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import SERVER_KIND, FlowRunner
from tests.acceptance.notifications_check import check_failing_tagged_flow_notifies_once
from tests.acceptance.task_runs import check_fifty_task_flow

pytestmark = pytest.mark.slow

POSTGRESQL_ONLY = pytest.mark.one_database("postgresql")
# Prefect names runs with coolname's two-word slugs, e.g. "bold-galago".
GENERATED_NAME = re.compile(r"^[a-z]+-[a-z]+$")


def read_flow_run(api: httpx.Client, flow_run_id: str) -> dict[str, Any]:
    response = api.get(f"/flow_runs/{flow_run_id}")
    assert response.status_code == 200, response.text
    return response.json()


def state_history(api: httpx.Client, flow_run_id: str) -> list[str]:
    """The names of a flow run's states, oldest first."""
    response = api.get("/flow_run_states/", params={"flow_run_id": flow_run_id})
    assert response.status_code == 200, response.text
    states = sorted(response.json(), key=lambda state: datetime.fromisoformat(state["timestamp"]))
    assert all(state["state_details"]["flow_run_id"] == flow_run_id for state in states)
    return [state["name"] for state in states]


def test_flow_with_parameters_completes(api: httpx.Client, run_flow_once: FlowRunner) -> None:
    outcome = run_flow_once("add")

    assert outcome["result"] == 5
    run = read_flow_run(api, outcome["flow_run_id"])
    assert run["state"]["type"] == "COMPLETED"
    assert run["state"]["name"] == "Completed"
    assert run["state_type"] == "COMPLETED"
    assert run["parameters"] == {"x": 2, "y": 3}
    assert state_history(api, run["id"]) == ["Pending", "Running", "Completed"]
    assert run["run_count"] == 1
    assert run["start_time"] is not None and run["end_time"] is not None
    assert datetime.fromisoformat(run["start_time"]) <= datetime.fromisoformat(run["end_time"])
    assert run["total_run_time"] > 0
    flow = api.get(f"/flows/{run['flow_id']}")
    assert flow.status_code == 200 and flow.json()["name"] == "add"


@POSTGRESQL_ONLY
def test_flow_retries_after_a_failed_attempt(api: httpx.Client, run_flow: FlowRunner, tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"

    outcome = run_flow("flaky", str(attempts))

    assert attempts.read_text() == "2"
    assert outcome["result"] == 2
    run = read_flow_run(api, outcome["flow_run_id"])
    assert run["state"]["type"] == "COMPLETED"
    assert run["state"]["name"] == "Completed"
    # The server rejects the first Failed with AwaitingRetry (a Scheduled state); the client then proposes Running.
    assert state_history(api, run["id"]) == ["Pending", "Running", "AwaitingRetry", "Running", "Completed"]
    assert run["run_count"] == 2
    assert run["empirical_policy"]["retries"] == 2


@POSTGRESQL_ONLY
def test_subflow_is_linked_to_its_parent_through_a_task_run(api: httpx.Client, run_flow: FlowRunner) -> None:
    outcome = run_flow("parent_child")
    parent_id, child_id = outcome["flow_run_id"], outcome["result"]

    parent, child = read_flow_run(api, parent_id), read_flow_run(api, child_id)
    assert parent["state"]["type"] == "COMPLETED"
    assert child["state"]["type"] == "COMPLETED"
    assert parent["parent_task_run_id"] is None
    assert child["parent_task_run_id"] is not None
    response = api.get(f"/task_runs/{child['parent_task_run_id']}")
    assert response.status_code == 200, response.text
    tracking_task = response.json()
    assert tracking_task["flow_run_id"] == parent_id
    # The server copies each subflow state onto the tracking task run, pointing back at the child.
    assert tracking_task["state"]["type"] == "COMPLETED"
    assert tracking_task["state"]["state_details"]["child_flow_run_id"] == child_id

    response = api.post("/flow_runs/filter", json={"flow_runs": {"parent_task_run_id": {"is_null_": False}}})
    assert response.status_code == 200, response.text
    subflow_ids = {run["id"] for run in response.json()}
    assert child_id in subflow_ids
    assert parent_id not in subflow_ids


@POSTGRESQL_ONLY
def test_flow_run_name_template_is_applied(api: httpx.Client, run_flow: FlowRunner) -> None:
    outcome = run_flow("named_report")

    run = read_flow_run(api, outcome["flow_run_id"])
    assert run["name"] == "report-monday"
    assert run["parameters"] == {"day": "monday"}
    assert run["state"]["type"] == "COMPLETED"


@POSTGRESQL_ONLY
def test_run_logger_messages_are_stored(api: httpx.Client, run_flow: FlowRunner) -> None:
    outcome = run_flow("logging_flow")
    flow_run_id = outcome["flow_run_id"]

    response = api.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}})

    assert response.status_code == 200, response.text
    logs = response.json()
    assert logs and all(log["flow_run_id"] == flow_run_id for log in logs)
    ours = [
        (log["level"], log["message"])
        for log in logs
        if log["message"] in ("hello from baton", "careful: this is a warning from baton")
    ]
    # Logs come back oldest first by default (LogSort.TIMESTAMP_ASC).
    assert ours == [(20, "hello from baton"), (30, "careful: this is a warning from baton")]


@POSTGRESQL_ONLY
def test_failing_flow_ends_failed(api: httpx.Client, run_flow: FlowRunner) -> None:
    outcome = run_flow("doomed")
    flow_run_id = outcome["flow_run_id"]

    run = read_flow_run(api, flow_run_id)
    assert run["state"]["type"] == "FAILED"
    assert run["state"]["name"] == "Failed"
    assert "the answer is not 41" in run["state"]["message"]
    assert state_history(api, flow_run_id) == ["Pending", "Running", "Failed"]
    assert run["run_count"] == 1
    assert run["end_time"] is not None

    def count(state_type: str) -> int:
        body = {"flow_runs": {"id": {"any_": [flow_run_id]}, "state": {"type": {"any_": [state_type]}}}}
        response = api.post("/flow_runs/count", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    assert count("FAILED") == 1
    assert count("COMPLETED") == 0


def test_unnamed_flow_runs_get_generated_names(api: httpx.Client, run_flow_once: FlowRunner) -> None:
    outcome = run_flow_once("add")

    run = read_flow_run(api, outcome["flow_run_id"])
    assert GENERATED_NAME.match(run["name"]), run["name"]

    # The same holds for a run created straight over the API with no name at all.
    response = api.post("/flow_runs/", json={"flow_id": run["flow_id"]})
    assert response.status_code == 201, response.text
    created = response.json()
    assert GENERATED_NAME.match(created["name"]), created["name"]
    assert created["state"]["type"] == "PENDING"
    assert read_flow_run(api, created["id"])["name"] == created["name"]


def test_fifty_task_runs_are_recorded_with_their_history(
    api: httpx.Client, run_flow: FlowRunner, tmp_path: Path
) -> None:
    check_fifty_task_flow(api, run_flow, tmp_path / "markers")


@pytest.mark.skipif(SERVER_KIND != "baton", reason="Prefect 3 has no notification policies (they became automations)")
@POSTGRESQL_ONLY
def test_a_failing_tagged_flow_sends_one_notification(api: httpx.Client, run_flow: FlowRunner) -> None:
    check_failing_tagged_flow_notifies_once(api, run_flow)

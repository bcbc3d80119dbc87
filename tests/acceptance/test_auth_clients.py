"""The official clients with authentication on: Prefect flows with tasks, `prefect worker` and `baton worker`
executing deployments, and the `prefect` CLI, each with the key of the role it needs, against `baton server start`
with BATON_AUTH_ENABLED=true; without a key nothing gets in.

What the Prefect 3 client sends (prefect/client/orchestration, prefect/events/clients.py): over HTTP, Basic
base64(PREFECT_API_AUTH_STRING) when that is set, else Bearer PREFECT_API_KEY; on the events websocket (/events/in,
which carries every task run) only PREFECT_API_AUTH_STRING, as a Basic header and as the auth message's token. So
PREFECT_API_AUTH_STRING='<account name>:<API key>' is the setting that makes everything arrive.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import AuthServer, clean_environ, flow_script
from tests.acceptance.prefect_cli import run_cli
from tests.acceptance.task_runs import task_run_history, wait_for_task_runs
from tests.acceptance.worker_runs import (
    check_baton_worker_completes_a_run,
    check_prefect_worker_completes_a_run,
    create_deployment,
)

pytestmark = pytest.mark.slow

# What the flow `tasks_that_log` logs, besides the engine's own lines.
FLOW_LOG_LINES = ["flow starting three tasks", "task doubling 0", "task doubling 1", "task doubling 2"]
# The client flushes its events every few seconds; after a flow ends, its last ones are sent within this.
EVENTS_SETTLE_SECONDS = 5.0


@pytest.fixture
def admin(auth_server: AuthServer) -> Iterator[httpx.Client]:
    """An HTTP client with the admin key, to set up and read back; paths are relative to `/api`."""
    headers = {"Authorization": f"Bearer {auth_server.keys['admin'].key}"}
    with httpx.Client(base_url=auth_server.server.api_url, timeout=10.0, headers=headers) as client:
        yield client


def run_flow(auth_server: AuthServer, tmp_path: Path, script: str, **settings: str) -> dict[str, Any]:
    completed = flow_script(auth_server.server, tmp_path, script, **settings)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    outcome["stderr"] = completed.stderr
    return outcome


def messages(api: httpx.Client, flow_run_id: str) -> list[str]:
    response = api.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}})
    assert response.status_code == 200, response.text
    return [log["message"] for log in response.json()]


def test_flow_with_tasks_and_a_worker_auth_string_records_everything(
    auth_server: AuthServer, admin: httpx.Client, tmp_path: Path
) -> None:
    worker = auth_server.keys["worker"]
    outcome = run_flow(auth_server, tmp_path, "tasks_that_log", PREFECT_API_AUTH_STRING=worker.auth_string)

    assert "Unable to connect" not in outcome["stderr"], outcome["stderr"]
    run = admin.get(f"/flow_runs/{outcome['flow_run_id']}").json()
    assert run["state_type"] == "COMPLETED"
    # The task runs came over the authenticated events websocket, with their whole history.
    task_runs = wait_for_task_runs(admin, outcome["flow_run_id"], 3)
    assert sorted(task_run["id"] for task_run in task_runs) == sorted(outcome["result"])
    for task_run_id in outcome["result"]:
        assert task_run_history(admin, task_run_id) == ["Pending", "Running", "Completed"]
    logged = messages(admin, outcome["flow_run_id"])
    assert all(line in logged for line in FLOW_LOG_LINES), logged


def test_prefect_api_key_alone_loses_the_task_runs(
    auth_server: AuthServer, admin: httpx.Client, tmp_path: Path
) -> None:
    """Documents why the README asks for PREFECT_API_AUTH_STRING: with PREFECT_API_KEY alone the HTTP calls pass
    (Bearer) but the non-Cloud events client sends no credential, so the task runs never arrive; the warning the
    user sees says what to set."""
    worker = auth_server.keys["worker"]
    outcome = run_flow(auth_server, tmp_path, "tasks_that_log", PREFECT_API_KEY=worker.key)

    assert "PREFECT_API_AUTH_STRING='<account name>:<API key>'" in outcome["stderr"], outcome["stderr"]
    run = admin.get(f"/flow_runs/{outcome['flow_run_id']}").json()
    assert run["state_type"] == "COMPLETED"
    assert all(line in messages(admin, outcome["flow_run_id"]) for line in FLOW_LOG_LINES)
    time.sleep(EVENTS_SETTLE_SECONDS)
    body = {"flow_runs": {"id": {"any_": [outcome["flow_run_id"]]}}}
    assert admin.post("/task_runs/filter", json=body).json() == []


def test_without_a_key_nothing_is_written(auth_server: AuthServer, admin: httpx.Client, tmp_path: Path) -> None:
    api_url = auth_server.server.api_url
    before = _written(admin)

    refused = httpx.post(f"{api_url}/flows/", json={"name": "sneaky"})
    assert refused.status_code == 401, refused.text
    assert refused.json()["detail"].startswith("Sign in first: send an API key")
    bad_key = {"Authorization": "Bearer baton_not-a-key"}
    wrong = httpx.post(f"{api_url}/flows/", json={"name": "sneaky"}, headers=bad_key)
    assert wrong.status_code == 401, wrong.text
    completed = flow_script(auth_server.server, tmp_path, "tasks_that_log")

    assert completed.returncode != 0
    assert "Client error '401 Unauthorized' for url" in completed.stderr, completed.stderr
    assert _written(admin) == before


def _written(api: httpx.Client) -> dict[str, int]:
    """How many flows, flow runs, task runs and logs the server holds."""
    counts = {path: api.post(f"/{path}/count", json={}).json() for path in ("flows", "flow_runs", "task_runs")}
    logs = api.post("/logs/filter", json={"limit": 200}).json()
    assert len(logs) < 200  # all of them, so that one more would show
    return {**counts, "logs": len(logs)}


def test_basic_credentials_may_be_a_bare_key(auth_server: AuthServer) -> None:
    """PREFECT_API_AUTH_STRING set to the key alone: the client sends Basic base64(key)."""
    key = auth_server.keys["viewer"].key
    for credential in (key, f"viewer-account:{key}"):
        token = base64.b64encode(credential.encode()).decode()
        headers = {"Authorization": f"Basic {token}"}
        response = httpx.post(f"{auth_server.server.api_url}/flows/filter", json={}, headers=headers)
        assert response.status_code == 200, response.text
    token = base64.b64encode(b"baton_not-a-key").decode()
    response = httpx.post(
        f"{auth_server.server.api_url}/flows/filter", json={}, headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 401, response.text


def test_baton_worker_with_a_worker_key_runs_a_deployment(
    auth_server: AuthServer, admin: httpx.Client, tmp_path: Path
) -> None:
    """BATON_API_KEY alone: the worker sends it, and gives it to the run's engine as its Prefect credential."""
    finished = check_baton_worker_completes_a_run(
        admin, auth_server.server, "baton-pool", tmp_path, BATON_API_KEY=auth_server.keys["worker"].key
    )
    assert finished["state"]["name"] == "Completed"


def test_prefect_worker_with_a_worker_key_runs_a_deployment(
    auth_server: AuthServer, admin: httpx.Client, tmp_path: Path
) -> None:
    worker = auth_server.keys["worker"]
    finished = check_prefect_worker_completes_a_run(
        admin, auth_server.server, "official-pool", tmp_path, PREFECT_API_AUTH_STRING=worker.auth_string
    )
    assert finished["state"]["name"] == "Completed"


def test_prefect_cli_with_a_developer_key(auth_server: AuthServer, admin: httpx.Client, tmp_path: Path) -> None:
    create_deployment(admin, "cli-pool", "add.py:add", {"x": 1, "y": 1})
    developer = auth_server.keys["developer"]
    ran = run_cli(
        auth_server.server,
        tmp_path,
        [
            ["variable", "set", "region", "eu-west"],
            ["variable", "get", "region"],
            ["variable", "ls"],
            ["block", "ls"],
            ["deployment", "run", "add/add-deployment"],
        ],
        PREFECT_API_AUTH_STRING=developer.auth_string,
    )
    set_variable, get_variable, list_variables, list_blocks, run_deployment = ran
    set_variable.ok("Set variable 'region'.")
    get_variable.ok('"eu-west"')
    list_variables.ok("Variables", "region", '"eu-west"')
    list_blocks.ok("Blocks", "ID", "Type", "Name", "Slug")
    run_deployment.ok("Creating flow run for deployment 'add/add-deployment'...", "Created flow run")
    run_id = run_deployment.lines_with("UUID:")[0].split("UUID:")[1].strip()
    run = admin.get(f"/flow_runs/{run_id}").json()
    assert run["state_type"] == "SCHEDULED" and run["parameters"] == {"x": 1, "y": 1}
    variable = admin.get("/variables/name/region").json()
    assert variable["value"] == "eu-west"


def test_prefect_cli_with_a_viewer_key_is_refused(auth_server: AuthServer, admin: httpx.Client, tmp_path: Path) -> None:
    viewer = auth_server.keys["viewer"]
    ran = run_cli(
        auth_server.server,
        tmp_path,
        [["variable", "set", "x", "1"], ["variable", "ls"]],
        PREFECT_API_AUTH_STRING=viewer.auth_string,
    )
    refused, listed = ran
    # Prefect's CLI shows the server's answer after the traceback of the request that failed.
    refused.fails(
        "Client error '403 Forbidden' for url",
        "/api/variables/",
        "The role 'viewer' of service account 'viewer-account' does not allow this "
        "(it needs the permission 'variable:write').",
        "An exception occurred.",
    )
    listed.ok("Variables")
    assert admin.get("/variables/name/x").status_code == 404


def _baton(auth_server: AuthServer, tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`baton ARGS` as a user types it, with BATON_API_URL and extra environment `settings`."""
    env = clean_environ(BATON_HOME=str(tmp_path / "baton-home"), BATON_API_URL=auth_server.server.api_url, **settings)
    return subprocess.run([sys.executable, "-m", "baton", *args], env=env, capture_output=True, text=True, timeout=60)


def test_baton_cli_sends_baton_api_key(auth_server: AuthServer, admin: httpx.Client, tmp_path: Path) -> None:
    developer, viewer = auth_server.keys["developer"], auth_server.keys["viewer"]

    made = _baton(auth_server, tmp_path, "variable", "set", "colour", "blue", BATON_API_KEY=developer.key)
    read = _baton(auth_server, tmp_path, "variable", "get", "colour", BATON_API_KEY=viewer.key)
    refused = _baton(auth_server, tmp_path, "variable", "set", "colour", "red", BATON_API_KEY=viewer.key)
    anonymous = _baton(auth_server, tmp_path, "variable", "get", "colour")

    assert (made.returncode, made.stdout) == (0, "Created variable 'colour'.\n"), made.stderr
    assert (read.returncode, read.stdout) == (0, "blue\n"), read.stderr
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "Error: The role 'viewer' of service account 'viewer-account' does not allow this (it needs the permission "
        "'variable:write')."
    )
    assert anonymous.returncode == 1
    assert anonymous.stderr.strip().startswith("Error: Sign in first: send an API key")
    assert "BATON_API_KEY" in anonymous.stderr
    assert admin.get("/variables/name/colour").json()["value"] == "blue"

"""`baton work-pool|deployment|flow-run ...` as subprocesses against a real Baton server, and `baton worker start`
running a deployment's run that `baton deployment run --watch` follows to the end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import FLOWS_DIR
from tests.cli.test_resource_cli import _environ, api, api_url, env, fails, ok, table

__all__ = ["api", "api_url", "env"]  # module-scoped fixtures: one server for this module


def _deployment(api: httpx.Client, pool: str, flow_name: str, entrypoint: str, **fields: Any) -> dict[str, Any]:
    flow_id = api.post("/flows/", json={"name": flow_name}).json()["id"]
    body = {
        "name": "nightly",
        "flow_id": flow_id,
        "work_pool_name": pool,
        "entrypoint": entrypoint,
        "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": str(FLOWS_DIR)}}],
        **fields,
    }
    response = api.post("/deployments/", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_work_pool_create_ls_inspect_pause_resume_delete(env: dict[str, str], api: httpx.Client) -> None:
    out = ok(env, "work-pool", "create", "etl", "--description", "nightly jobs", "--limit", "3")
    assert "Created work pool 'etl' of type 'process'" in out
    assert "already exists" in fails(env, "work-pool", "create", "etl")
    rows = table(ok(env, "work-pool", "ls"))
    assert rows[0] == ["NAME", "TYPE", "STATUS", "RUNS/LIMIT", "DESCRIPTION"]
    assert ["etl", "process", "NOT_READY", "0/3", "nightly jobs"] in rows
    assert ok(env, "work-pool", "pause", "etl") == "Paused work pool 'etl'.\n"
    assert api.get("/work_pools/etl").json()["status"] == "PAUSED"
    inspected = ok(env, "work-pool", "inspect", "etl")
    assert "Paused             yes" in inspected and "1. default (NOT_READY)" in inspected
    assert json.loads(ok(env, "work-pool", "inspect", "etl", "--json"))["queues"][0]["name"] == "default"
    ok(env, "work-pool", "resume", "etl")
    assert api.get("/work_pools/etl").json()["is_paused"] is False
    assert 'Work pool "nope" not found.' in fails(env, "work-pool", "inspect", "nope")
    assert ok(env, "work-pool", "delete", "etl", "-y") == "Deleted work pool 'etl'.\n"
    assert api.get("/work_pools/etl").status_code == 404


def test_deployment_and_flow_run_commands(env: dict[str, str], api: httpx.Client) -> None:
    ok(env, "work-pool", "create", "cli-pool")
    created = _deployment(api, "cli-pool", "add", "add.py:add", parameters={"x": 1, "y": 1})
    rows = table(ok(env, "deployment", "ls"))
    assert ["add/nightly", created["id"], "cli-pool"] == rows[1][:3]
    inspected = ok(env, "deployment", "inspect", "add/nightly")
    assert "Entrypoint     add.py:add" in inspected and "Work pool      cli-pool" in inspected
    assert json.loads(ok(env, "deployment", "inspect", created["id"], "--json"))["name"] == "nightly"
    assert "neither a deployment id" in fails(env, "deployment", "inspect", "nightly")

    out = ok(env, "deployment", "run", "add/nightly", "--param", "x=40", "-p", "y=2")
    run_id = out.split("(")[1].split(")")[0]
    run = api.get(f"/flow_runs/{run_id}").json()
    assert run["parameters"] == {"x": 40, "y": 2} and run["state_type"] == "SCHEDULED"
    assert run["work_pool_name"] == "cli-pool"

    listed = table(ok(env, "flow-run", "ls", "--state", "scheduled"))
    assert [run_id, "add", run["name"], "Scheduled"] == listed[1][:4]
    assert ok(env, "flow-run", "ls", "--state", "RUNNING") == "No flow runs.\n"
    inspected = ok(env, "flow-run", "inspect", run_id)
    assert "Work pool             cli-pool" in inspected and '"x": 40' in inspected
    assert ok(env, "flow-run", "cancel", run_id) == f"Flow run {run_id} is Cancelled.\n"
    assert api.get(f"/flow_runs/{run_id}").json()["state_type"] == "CANCELLED"
    assert "cannot be cancelled" in fails(env, "flow-run", "cancel", run_id)

    ok(env, "deployment", "pause", "add/nightly")
    assert api.get(f"/deployments/{created['id']}").json()["paused"] is True
    ok(env, "deployment", "resume", created["id"])
    assert api.get(f"/deployments/{created['id']}").json()["paused"] is False
    ok(env, "deployment", "delete", "add/nightly", "-y")
    assert api.get(f"/deployments/{created['id']}").status_code == 404


@pytest.mark.slow
def test_worker_runs_what_deployment_run_watches(env: dict[str, str], api: httpx.Client, tmp_path: Path) -> None:
    ok(env, "work-pool", "create", "watched")
    _deployment(api, "watched", "add", "add.py:add", name="watched", parameters={"x": 1, "y": 1})
    worker_env = {
        **_environ(tmp_path / "worker-home", BATON_API_URL=env["BATON_API_URL"]),
        "BATON_WORKER_QUERY_SECONDS": "0.5",
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "baton", "worker", "start", "--pool", "watched", "--limit", "2"],
            env=worker_env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        watched = subprocess.run(
            [sys.executable, "-m", "baton", "deployment", "run", "add/watched", "-p", "y=41", "--watch"],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert watched.returncode == 0, watched.stdout + watched.stderr + log.read_text()
        assert watched.stdout.splitlines()[-1].endswith(" Completed")
        assert " Scheduled" in watched.stdout  # a state shorter than the 1 s watch interval may not show
        run_id = watched.stdout.split("(")[1].split(")")[0]
        logs = ok(env, "flow-run", "logs", run_id)
        deadline = time.monotonic() + 15  # the engine sends its last log lines a moment after its final state
        while "Finished in state Completed()" not in logs and time.monotonic() < deadline:
            time.sleep(0.5)
            logs = ok(env, "flow-run", "logs", run_id)
        assert "Finished in state Completed()" in logs
        assert ok(env, "flow-run", "logs", run_id, "--follow") == logs  # a finished run: the same, then exit
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert worker.returncode == 0, log.read_text()
    assert "stopped" in log.read_text()

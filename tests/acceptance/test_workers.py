"""Workers execute deployment runs against a Baton server: `baton worker start` and the official `prefect worker
start`, a worker killed mid-run (the run is Crashed by the zombie job), and a run cancelled while it runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import FLOWS_DIR, ApiServer, baton_server_on_fresh_database, clean_environ, tail
from tests.acceptance.worker_runs import (
    RUN_TIMEOUT_SECONDS,
    alive,
    baton_worker,
    check_baton_worker_completes_a_run,
    check_prefect_worker_completes_a_run,
    create_deployment,
    create_run,
    start_process,
    state_is,
    stop_worker,
    wait_for_run,
)
from tests.databases import SINGLE_DIALECT, TemplateDatabases

pytestmark = pytest.mark.slow

# The server's run-health jobs run fast here, so a dead worker's run is Crashed within seconds.
ZOMBIE_TIMEOUT_SECONDS = 3
SERVER_SETTINGS = {
    "BATON_SERVICES_ZOMBIE_RUNS_TIMEOUT_SECONDS": str(ZOMBIE_TIMEOUT_SECONDS),
    "BATON_SERVICES_ZOMBIE_RUNS_LOOP_SECONDS": "0.5",
    "BATON_SERVICES_FOREMAN_LOOP_SECONDS": "0.5",
}


@pytest.fixture(scope="module")
def api_server(template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One server for the module's tests, on one database (PostgreSQL when enabled): each test works in work pools of
    its own. These tests check worker, flow and signal behaviour across processes; the SQL behind each endpoint they
    use runs on both databases in tests/server (each test names where), and a second server would double the ~90 s
    these tests take without reaching other code."""
    yield from baton_server_on_fresh_database(SINGLE_DIALECT, template_databases, tmp_path_factory, **SERVER_SETTINGS)


@pytest.fixture
def pool() -> str:
    """A work pool name no other test of the shared server uses."""
    return f"local-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def api(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.api_url, timeout=10.0) as client:
        yield client


# One database: its poll, heartbeat and state SQL runs on both in tests/server/api/test_work_pools.py.
def test_baton_worker_runs_a_deployment_to_completed(
    api: httpx.Client, api_server: ApiServer, pool: str, tmp_path: Path
) -> None:
    check_baton_worker_completes_a_run(api, api_server, pool, tmp_path)


# One database: Prefect's worker calls the same endpoints, run on both in tests/server/api/test_work_pools*.py and
# test_worker_channel.py.
def test_official_prefect_worker_runs_a_deployment(api: httpx.Client, api_server: ApiServer, tmp_path: Path) -> None:
    check_prefect_worker_completes_a_run(api, api_server, "official", tmp_path)


# One database: the zombie-run query runs on both in tests/actors/test_zombie_runs.py.
def test_a_killed_worker_leaves_its_run_crashed(
    api: httpx.Client, api_server: ApiServer, pool: str, tmp_path: Path
) -> None:
    deployment_id = create_deployment(api, pool, "sleeper.py:sleeper", {"seconds": 120})
    run = create_run(api, deployment_id)
    worker, log = baton_worker(api_server, pool, tmp_path)
    try:
        running = wait_for_run(api, run["id"], state_is("RUNNING"), [log], RUN_TIMEOUT_SECONDS)
        # The machine goes away: the worker and the flow's process die at once, nobody reports anything.
        worker.kill()
        os.kill(int(running["infrastructure_pid"]), signal.SIGKILL)
        killed = time.monotonic()
        crashed = wait_for_run(api, run["id"], state_is("CRASHED"), [log], ZOMBIE_TIMEOUT_SECONDS + 10)
        # The worker's last heartbeat is at most one interval (1 s) before the kill.
        assert time.monotonic() - killed < ZOMBIE_TIMEOUT_SECONDS + 5
        # The last heartbeat is the worker's (every second) or the engine's (at its start, then every 180 s).
        assert crashed["state"]["message"].startswith(f"No heartbeat for {ZOMBIE_TIMEOUT_SECONDS} s")
    finally:
        stop_worker(worker, log)


# One database: the CANCELLING poll and transitions run on both in test_work_pools.py and test_zombie_runs.py.
def test_cancelling_a_running_run_stops_its_process(
    api: httpx.Client, api_server: ApiServer, pool: str, tmp_path: Path
) -> None:
    deployment_id = create_deployment(api, pool, "sleeper.py:sleeper", {"seconds": 120})
    run = create_run(api, deployment_id)
    worker, log = baton_worker(api_server, pool, tmp_path)
    try:
        running = wait_for_run(api, run["id"], state_is("RUNNING"), [log], RUN_TIMEOUT_SECONDS)
        pid = int(running["infrastructure_pid"])
        assert alive(pid)
        response = api.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "CANCELLING"}})
        assert response.json()["status"] == "ACCEPT", response.text
        cancelled = wait_for_run(api, run["id"], state_is("CANCELLED", "CRASHED", "COMPLETED"), [log], 20)
        assert cancelled["state_type"] == "CANCELLED", tail(log)
        # The worker told the engine first (its control channel), so the engine never reported a crash.
        states = [state["name"] for state in api.get("/flow_run_states/", params={"flow_run_id": run["id"]}).json()]
        assert "Crashed" not in states, states
        assert "was terminated." in log.read_text()  # the engine exits cleanly, not "Crash detected!"
        deadline = time.monotonic() + 15  # the engine reports Cancelled just before it exits
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(pid), tail(log)
        assert worker.poll() is None  # the worker carries on
    finally:
        stop_worker(worker, log)
    assert worker.returncode == 0, tail(log)


# One database: the runner's deployment calls run on both in tests/server/api/test_deployments_prefect_client.py.
def test_flow_serve_runs_its_deployments_run(api: httpx.Client, api_server: ApiServer, tmp_path: Path) -> None:
    env = clean_environ(
        PREFECT_API_URL=api_server.api_url,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RUNNER_POLL_FREQUENCY="1",
    )
    log = tmp_path / "serve.log"
    server = start_process([sys.executable, str(FLOWS_DIR / "served.py")], env, log, FLOWS_DIR)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        found = api.get("/deployments/name/add/served")
        while found.status_code == 404 and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.3)
            found = api.get("/deployments/name/add/served")
        assert found.status_code == 200, tail(log)
        run = create_run(api, found.json()["id"])
        finished = wait_for_run(api, run["id"], state_is("COMPLETED", "FAILED", "CRASHED"), [log], RUN_TIMEOUT_SECONDS)
        assert finished["state_type"] == "COMPLETED", tail(log)
        assert finished["parameters"] == {"x": 1, "y": 2}
    finally:
        stop_worker(server, log)


# One database: signal handling in the worker process; the Crashed it sets is set_state, tested on both in api/.
def test_sigterm_stops_the_worker_and_its_runs(
    api: httpx.Client, api_server: ApiServer, pool: str, tmp_path: Path
) -> None:
    deployment_id = create_deployment(api, pool, "sleeper.py:sleeper", {"seconds": 120})
    run = create_run(api, deployment_id)
    worker, log = baton_worker(api_server, pool, tmp_path)
    try:
        running = wait_for_run(api, run["id"], state_is("RUNNING"), [log], RUN_TIMEOUT_SECONDS)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0, tail(log)
        assert not alive(int(running["infrastructure_pid"]))
        stopped = api.get(f"/flow_runs/{run['id']}").json()
        assert stopped["state_type"] == "CRASHED", stopped["state"]
    finally:
        stop_worker(worker, log)


# One database: a deployment the Prefect client creates runs on both in test_deployments_prefect_client.py.
def test_flow_deploy_from_source_runs_on_abaton_worker(
    api: httpx.Client, api_server: ApiServer, tmp_path: Path
) -> None:
    """`flow.from_source(...).deploy()` (what `prefect deploy` does for a local project) then `baton worker start`."""
    assert api.post("/work_pools/", json={"name": "deployed-pool", "type": "process"}).status_code == 201
    env = clean_environ(
        PREFECT_API_URL=api_server.api_url,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    deployed = subprocess.run(
        [sys.executable, str(FLOWS_DIR / "deploy_add.py"), "deployed-pool"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    deployment_id = json.loads(deployed.stdout.strip().splitlines()[-1])["deployment_id"]
    deployment = api.get(f"/deployments/{deployment_id}").json()
    assert deployment["entrypoint"] == "add.py:add" and deployment["work_pool_name"] == "deployed-pool"
    run = create_run(api, deployment_id)
    worker, log = baton_worker(api_server, "deployed-pool", tmp_path)
    try:
        finished = wait_for_run(api, run["id"], state_is("COMPLETED", "FAILED", "CRASHED"), [log], RUN_TIMEOUT_SECONDS)
        assert finished["state_type"] == "COMPLETED", tail(log)
        assert finished["parameters"] == {"x": 5, "y": 6}
    finally:
        stop_worker(worker, log)


# One database: the scheduler's SQL runs on both in tests/actors/test_scheduler.py and
# tests/server/models/deployments/test_scheduling.py.
def test_an_interval_schedule_runs_on_abaton_worker(api: httpx.Client, api_server: ApiServer, tmp_path: Path) -> None:
    """The scheduler creates the runs of a 2-second interval schedule; the worker executes them to Completed."""
    assert api.post("/work_pools/", json={"name": "scheduled", "type": "process"}).status_code == 201
    flow_id = api.post("/flows/", json={"name": "add"}).json()["id"]
    created = api.post(
        "/deployments/",
        json={
            "name": "every-two-seconds",
            "flow_id": flow_id,
            "work_pool_name": "scheduled",
            "entrypoint": "add.py:add",
            "path": str(FLOWS_DIR),
            "parameters": {"x": 1, "y": 1},
            "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": str(FLOWS_DIR)}}],
            "schedules": [{"schedule": {"interval": 2}, "active": True}],
        },
    )
    assert created.status_code == 201, created.text
    deployment_id = created.json()["id"]
    # Two runs at once are all the test waits for; without a limit the worker starts a run (a process importing
    # prefect) every 2 s, and on a loaded 2-core machine those crowd out the two being waited for.
    worker, log = baton_worker(api_server, "scheduled", tmp_path, "--limit", "2")
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS + 30
        completed: list[dict[str, Any]] = []
        while len(completed) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            runs = api.post(
                "/flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [deployment_id]}}}
            ).json()
            completed = [run for run in runs if run["state_type"] == "COMPLETED"]
        assert len(completed) >= 2, tail(log)
        assert all(run["auto_scheduled"] for run in completed)
        times = sorted(run["expected_start_time"] for run in completed)
        assert len(set(times)) == len(times)  # distinct scheduled times: no run was duplicated
    finally:
        stop_worker(worker, log)
        # The server outlives the test: no more runs every 2 s.
        assert api.post(f"/deployments/{deployment_id}/pause_deployment").status_code in (200, 204)

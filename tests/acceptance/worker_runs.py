"""Deployment runs executed by workers: deployments made as `prefect deploy` records them, the workers started as a
user starts them (`baton worker start`, `prefect worker start`), and the checks that a run reached Completed through
each, with or without authentication (the worker's credential comes in through `settings`, its environment)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import BIN_DIR, FLOWS_DIR, ApiServer, clean_environ, tail

WORKER_SETTINGS = {
    "BATON_WORKER_QUERY_SECONDS": "0.5",
    "BATON_WORKER_HEARTBEAT_SECONDS": "1",
    "BATON_WORKER_CANCELLATION_POLL_SECONDS": "0.5",
    "BATON_LOGGING_LEVEL": "INFO",
}
# A flow run in a fresh subprocess imports prefect (~2 s) on a loaded 2-CPU machine; leave room.
RUN_TIMEOUT_SECONDS = 45.0


def create_deployment(api: httpx.Client, pool: str, entrypoint: str, parameters: dict[str, Any]) -> str:
    """A deployment of a flow in tests/acceptance/flows, in `pool` (created), as `prefect deploy` would record it."""
    created = api.post("/work_pools/", json={"name": pool, "type": "process"})
    assert created.status_code in (201, 409), created.text
    flow_name = entrypoint.split(":")[1]
    flow_id = api.post("/flows/", json={"name": flow_name}).json()["id"]
    response = api.post(
        "/deployments/",
        json={
            "name": f"{flow_name}-deployment",
            "flow_id": flow_id,
            "work_pool_name": pool,
            "entrypoint": entrypoint,
            "path": str(FLOWS_DIR),
            "parameters": parameters,
            "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": str(FLOWS_DIR)}}],
        },
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def create_run(api: httpx.Client, deployment_id: str) -> dict[str, Any]:
    response = api.post(f"/deployments/{deployment_id}/create_flow_run", json={})
    assert response.status_code == 201, response.text
    return response.json()


def wait_for_run(
    api: httpx.Client, run_id: str, done: Callable[[dict[str, Any]], bool], logs: list[Path], timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    run = api.get(f"/flow_runs/{run_id}").json()
    while not done(run) and time.monotonic() < deadline:
        time.sleep(0.2)
        run = api.get(f"/flow_runs/{run_id}").json()
    if not done(run):
        output = "\n".join(f"--- {path.name}\n{tail(path)}" for path in logs)
        pytest.fail(f"flow run ended waiting in {run['state_name']!r}.\n{output}")
    return run


def state_is(*types: str) -> Callable[[dict[str, Any]], bool]:
    return lambda run: run["state_type"] in types


def start_process(command: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)


def baton_worker(
    api_server: ApiServer, pool: str, tmp_path: Path, *extra: str, **settings: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """`baton worker start --pool POOL --name w1 EXTRA...` with extra environment `settings`; it and its log."""
    env = clean_environ(
        BATON_HOME=str(tmp_path / "worker-home"),
        BATON_API_URL=api_server.api_url,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        **WORKER_SETTINGS,
        **settings,
    )
    log = tmp_path / "baton-worker.log"
    command = [sys.executable, "-m", "baton", "worker", "start", "--pool", pool, "--name", "w1", *extra]
    return start_process(command, env, log, tmp_path), log


def stop_worker(process: subprocess.Popen[bytes], log: Path, *, must_exit: bool = True) -> None:
    """SIGTERM, then at most 20 s for the worker to exit. `must_exit=False` is for the official Prefect worker: in
    the full suite on a slow host it has stayed in its event loop after turning SIGTERM into SIGINT, its run's
    process already gone; alone it exits at once. That is Prefect's shutdown, not Baton's API, so it is killed and
    reported on stderr instead of failing a test about running deployments."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            if must_exit:
                pytest.fail(f"the worker did not exit within 20 s of SIGTERM.\n{tail(log)}")
            print(
                f"the official Prefect worker did not exit within 20 s of SIGTERM; killed.\n{tail(log)}",
                file=sys.stderr,
            )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of a dead worker, reaped by init later, counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def check_baton_worker_completes_a_run(
    api: httpx.Client, api_server: ApiServer, pool: str, tmp_path: Path, **settings: str
) -> dict[str, Any]:
    """`baton worker start` (with environment `settings`) executes a run of `add` to Completed; the finished run."""
    deployment_id = create_deployment(api, pool, "add.py:add", {"x": 2, "y": 3})
    run = create_run(api, deployment_id)
    worker, log = baton_worker(api_server, pool, tmp_path, **settings)
    try:
        finished = wait_for_run(api, run["id"], state_is("COMPLETED", "FAILED", "CRASHED"), [log], RUN_TIMEOUT_SECONDS)
        assert finished["state_type"] == "COMPLETED", tail(log)
        assert finished["infrastructure_pid"] and finished["labels"]["prefect.worker.name"] == "w1"
        assert finished["labels"]["prefect.work-pool.name"] == pool
        states = [state["name"] for state in api.get("/flow_run_states/", params={"flow_run_id": run["id"]}).json()]
        assert states == ["Scheduled", "Pending", "Running", "Completed"]
        workers = api.post(f"/work_pools/{pool}/workers/filter", json={}).json()
        assert [(w["name"], w["status"]) for w in workers] == [("w1", "ONLINE")]
        assert api.get(f"/work_pools/{pool}").json()["status"] == "READY"
        assert api.get(f"/deployments/{deployment_id}").json()["status"] == "READY"
    finally:
        stop_worker(worker, log)
    assert worker.returncode == 0, tail(log)
    return finished


def check_prefect_worker_completes_a_run(
    api: httpx.Client, api_server: ApiServer, pool: str, tmp_path: Path, **settings: str
) -> dict[str, Any]:
    """`prefect worker start --type process` (with environment `settings`) executes a run of `add` to Completed,
    heartbeating over the worker channel; the finished run."""
    deployment_id = create_deployment(api, pool, "add.py:add", {"x": 20, "y": 22})
    run = create_run(api, deployment_id)
    env = clean_environ(
        PREFECT_API_URL=api_server.api_url,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_HEARTBEAT_SECONDS="2",
        # The worker says at DEBUG whether it uses the worker channel or fell back to REST.
        PREFECT_LOGGING_LEVEL="DEBUG",
        **settings,
    )
    log = tmp_path / "prefect-worker.log"
    command = [str(BIN_DIR / "prefect"), "worker", "start", "--pool", pool, "--type", "process"]
    worker = start_process(command, env, log, tmp_path)
    try:
        finished = wait_for_run(api, run["id"], state_is("COMPLETED", "FAILED", "CRASHED"), [log], RUN_TIMEOUT_SECONDS)
        assert finished["state_type"] == "COMPLETED", tail(log)
        assert finished["infrastructure_pid"]
        assert finished["labels"]["prefect.worker.type"] == "process"
        workers = api.post(f"/work_pools/{pool}/workers/filter", json={}).json()
        assert len(workers) == 1 and workers[0]["status"] == "ONLINE"
        # Its heartbeats went over the worker channel (/workers/connect), not REST.
        output = log.read_text()
        assert "Skipping REST worker heartbeat because the worker channel is healthy" in output, tail(log)
        assert "REST fallback is active" not in output and "Worker channel disabled" not in output, tail(log)
        flow_process = int(finished["infrastructure_pid"])
        # The worker waits for its runs' processes before it exits: give the finished run's process time to exit
        # (it sends its last logs and events first), so that SIGTERM then finds an idle worker.
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while alive(flow_process) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(flow_process), f"the finished run's process was still running.\n{tail(log)}"
    finally:
        stop_worker(worker, log, must_exit=False)
    return finished

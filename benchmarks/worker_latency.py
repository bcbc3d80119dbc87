"""Benchmark how late a scheduled run starts: scheduled time -> Pending (the worker took it) and -> Running (the
flow's process began), with one `baton worker start` against a `baton server start`.

A deployment of a trivial flow gets ``--runs`` runs scheduled ``--spacing`` seconds apart, starting a few seconds
after the worker starts. When all have finished, each run's state history gives its two delays. Running includes
starting a Python process that imports prefect (~1-2 s of CPU), which is most of it; Pending is Baton's own part
(the worker's poll interval, ``BATON_WORKER_QUERY_SECONDS``, and the orchestration call).

Run it::

    .venv/bin/python benchmarks/worker_latency.py --runs 20 [--database-url postgresql+asyncpg://...]

The output is a table and, as the last line, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

FLOW_SOURCE = """
from prefect import flow


@flow
def tiny(number: int = 0) -> int:
    return number
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environ(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))}
    env.update(values)
    return env


def _wait_healthy(api_url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server at {api_url} did not become healthy")


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="baton-worker-latency-"))
    (workdir / "tiny.py").write_text(FLOW_SOURCE)
    database_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'baton.db'}"
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    server_env = _environ(BATON_HOME=str(workdir / "server"), BATON_API_DATABASE_CONNECTION_URL=database_url)
    server = subprocess.Popen(
        [sys.executable, "-m", "baton", "server", "start", "--port", str(port)],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "server.log", "wb"),  # noqa: SIM115
    )
    worker = None
    try:
        _wait_healthy(api_url)
        api = httpx.Client(base_url=api_url, timeout=10.0)
        api.post("/work_pools/", json={"name": "bench", "type": "process"}).raise_for_status()
        flow_id = api.post("/flows/", json={"name": "tiny"}).json()["id"]
        deployment = api.post(
            "/deployments/",
            json={
                "name": "tiny",
                "flow_id": flow_id,
                "work_pool_name": "bench",
                "entrypoint": "tiny.py:tiny",
                "path": str(workdir),
                "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": str(workdir)}}],
            },
        )
        deployment.raise_for_status()
        deployment_id = deployment.json()["id"]
        first = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.lead)
        run_ids = []
        for number in range(args.runs):
            scheduled = first + dt.timedelta(seconds=number * args.spacing)
            created = api.post(
                f"/deployments/{deployment_id}/create_flow_run",
                json={
                    "parameters": {"number": number},
                    "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": scheduled.isoformat()}},
                },
            )
            created.raise_for_status()
            run_ids.append(created.json()["id"])
        worker_env = _environ(
            BATON_HOME=str(workdir / "worker"),
            BATON_API_URL=api_url,
            BATON_WORKER_QUERY_SECONDS=str(args.query_seconds),
            PREFECT_HOME=str(workdir / "prefect"),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "baton", "worker", "start", "--pool", "bench", "--name", "bench-worker"],
            env=worker_env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "worker.log", "wb"),  # noqa: SIM115
        )
        deadline = time.monotonic() + args.lead + args.runs * args.spacing + 120
        pending_delays: list[float] = []
        running_delays: list[float] = []
        unfinished = set(run_ids)
        while unfinished and time.monotonic() < deadline:
            time.sleep(1.0)
            for run_id in list(unfinished):
                if api.get(f"/flow_runs/{run_id}").json()["state_type"] in ("COMPLETED", "FAILED", "CRASHED"):
                    unfinished.discard(run_id)
        outcomes: dict[str, int] = {}
        for run_id in run_ids:
            record = api.get(f"/flow_runs/{run_id}").json()
            outcomes[record["state_type"]] = outcomes.get(record["state_type"], 0) + 1
            scheduled = _parse(record["expected_start_time"])
            states = api.get("/flow_run_states/", params={"flow_run_id": run_id}).json()
            times = {state["type"]: _parse(state["timestamp"]) for state in states}
            if "PENDING" in times:
                pending_delays.append((times["PENDING"] - scheduled).total_seconds())
            if "RUNNING" in times:
                running_delays.append((times["RUNNING"] - scheduled).total_seconds())
        return {
            "runs": args.runs,
            "database": "postgresql" if "postgresql" in database_url else "sqlite",
            "worker_query_seconds": args.query_seconds,
            "outcomes": outcomes,
            "to_pending_p50_s": round(statistics.median(pending_delays), 3) if pending_delays else None,
            "to_pending_p99_s": round(_percentile(pending_delays, 0.99), 3) if pending_delays else None,
            "to_running_p50_s": round(statistics.median(running_delays), 3) if running_delays else None,
            "to_running_p99_s": round(_percentile(running_delays, 0.99), 3) if running_delays else None,
        }
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="scheduled runs (default 20)")
    parser.add_argument("--spacing", type=float, default=2.0, help="seconds between scheduled times (default 2)")
    parser.add_argument("--lead", type=float, default=8.0, help="seconds from now to the first run (default 8)")
    parser.add_argument("--query-seconds", type=float, default=None, help="worker poll interval (its default)")
    parser.add_argument("--database-url", default=None, help="server database (default: a temporary SQLite file)")
    args = parser.parse_args()
    if args.query_seconds is None:
        from baton.settings import Settings

        args.query_seconds = Settings().worker_query_seconds
    figures = run(args)
    print(f"{'runs':<28}{figures['runs']}")
    print(f"{'outcomes':<28}{figures['outcomes']}")
    print(f"{'worker poll interval (s)':<28}{figures['worker_query_seconds']}")
    print(f"{'scheduled -> Pending (s)':<28}p50 {figures['to_pending_p50_s']}  p99 {figures['to_pending_p99_s']}")
    print(f"{'scheduled -> Running (s)':<28}p50 {figures['to_running_p50_s']}  p99 {figures['to_running_p99_s']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

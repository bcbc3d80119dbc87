"""Benchmark background tasks with the official client: `--callers` processes `.delay()` `--tasks` runs of a
trivial task between them, `--workers` `prefect task serve` processes run them, and each caller waits for every
result. Against Baton (`baton server start`, embedded mode on SQLite) and Prefect's own server (`prefect server
start`, SQLite) on the same machine in the same run, one after the other.

Figures per server: tasks/s from the first submit to the last result; submit-to-start latency (from just before
`.delay()` to the run's `start_time`, as the worker reported Running) p50/p99; submit-to-result p50/p99. Most of the
cost is the client's: `.delay()` takes ~0.1 s of CPU per run (it stores the parameters in result storage), and the
task engine in the worker about as much again.

Run it::

    .venv/bin/python benchmarks/background_tasks.py --tasks 5000 [--servers baton,prefect]

The output is a table and, as the last line, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent
TASKS_SOURCE = '''
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from prefect import task


@task
def noop(i: int) -> int:
    return i


def call(count: int) -> None:
    """Submit `count` runs (from 4 threads, as a web app's requests would), then wait for every result. A submit or
    result that fails is counted with its first error instead of ending the run."""
    submitted: dict[str, float] = {}
    errors: dict[str, list[str]] = {"submit": [], "result": []}

    def submit(i: int):
        at = time.time()
        try:
            future = noop.delay(i)
        except Exception as exc:
            errors["submit"].append(f"{type(exc).__name__}: {exc}"[:300])
            return None
        submitted[str(future.task_run_id)] = at
        return future

    with ThreadPoolExecutor(4) as pool:
        futures = [future for future in pool.map(submit, range(count)) if future is not None]
    finished = {}
    for future in futures:
        try:
            future.result(timeout=1800)
        except Exception as exc:
            errors["result"].append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        finished[str(future.task_run_id)] = time.time()
    print(json.dumps({"submitted": submitted, "finished": finished, "errors": errors}))


if __name__ == "__main__":
    call(int(sys.argv[1]))
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environ(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))}
    env.update(values)
    return env


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not happen within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def server(kind: str, home: Path) -> Iterator[str]:
    port = free_port()
    if kind == "baton":
        command = [str(BIN / "python"), "-m", "baton", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        env = environ(BATON_HOME=str(home), BATON_LOGGING_LEVEL="WARNING")
    else:
        command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        env = environ(
            PREFECT_HOME=str(home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_SERVER_UI_ENABLED="false",
            PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        )
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        wait_until(lambda: httpx.get(f"{api_url}/health", timeout=1).status_code == 200, 300, f"{kind} start")
        yield api_url
    finally:
        stop(process)


def start_times(api_url: str, ids: list[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    with httpx.Client(base_url=api_url, timeout=30) as api:
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            body = {"task_runs": {"id": {"any_": chunk}}, "limit": len(chunk)}
            for run in api.post("/task_runs/filter", json=body).json():
                if run.get("start_time"):
                    found[run["id"]] = datetime.fromisoformat(run["start_time"].replace("Z", "+00:00")).timestamp()
    return found


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(kind: str, tasks: int, callers: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-bg-{kind}-") as scratch:
        root = Path(scratch)
        (root / "bench_tasks.py").write_text(TASKS_SOURCE)
        (root / "server").mkdir()
        with server(kind, root / "server") as api_url:
            env = environ(
                PREFECT_API_URL=api_url,
                PREFECT_HOME=str(root / "client"),
                PREFECT_LOGGING_LEVEL="WARNING",
                PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW="ignore",
            )
            serving = [
                subprocess.Popen(
                    [str(BIN / "prefect"), "task", "serve", "bench_tasks.py:noop"],
                    env=env,
                    cwd=root,
                    stdout=subprocess.DEVNULL,
                    stderr=(root / f"worker-{n}.log").open("wb"),
                    start_new_session=True,
                )
                for n in range(workers)
            ]
            try:
                wait_until(
                    lambda: len(httpx.post(f"{api_url}/task_workers/filter", json={}, timeout=5).json()) >= workers,
                    120,
                    "task workers subscribing",
                )
                shares = [tasks // callers + (1 if n < tasks % callers else 0) for n in range(callers)]
                began = time.time()
                calling = [
                    subprocess.Popen(
                        [sys.executable, "bench_tasks.py", str(share)],
                        env=env,
                        cwd=root,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                    )
                    for share in shares
                ]
                outputs = [caller_output(run, share) for run, share in zip(calling, shares, strict=True)]
                wall = time.time() - began
            finally:
                for process in serving:
                    stop(process)
            submitted = {run_id: at for output in outputs for run_id, at in output["submitted"].items()}
            finished = {run_id: at for output in outputs for run_id, at in output["finished"].items()}
            started = start_times(api_url, list(submitted))
    submit_errors = [error for output in outputs for error in output["errors"]["submit"]]
    result_errors = [error for output in outputs for error in output["errors"]["result"]]
    figures: dict[str, Any] = {
        "server": kind,
        "tasks": tasks,
        "submitted": len(submitted),
        "results": len(finished),
        "submit_failures": len(submit_errors),
        "result_failures": len(result_errors),
        "first_error": (submit_errors or result_errors or [None])[0],
        "wall_seconds": round(wall, 1),
    }
    if not finished:
        return figures
    first, last = min(submitted.values()), max(finished.values())
    to_start = [started[run_id] - at for run_id, at in submitted.items() if run_id in started]
    to_result = [finished[run_id] - at for run_id, at in submitted.items() if run_id in finished]
    figures.update(
        {
            "tasks_per_second": round(len(finished) / (last - first), 2),
            "submit_to_start_p50_s": round(statistics.median(to_start), 3) if to_start else None,
            "submit_to_start_p99_s": round(percentile(to_start, 0.99), 3) if to_start else None,
            "submit_to_result_p50_s": round(statistics.median(to_result), 3),
            "submit_to_result_p99_s": round(percentile(to_result, 0.99), 3),
            "start_times_found": len(to_start),
        }
    )
    return figures


def caller_output(run: subprocess.Popen[bytes], share: int) -> dict[str, Any]:
    """What a caller process printed; a caller that died before printing counts all its tasks as failed submits."""
    stdout, stderr = run.communicate()
    lines = stdout.decode().strip().splitlines()
    if run.returncode == 0 and lines:
        return json.loads(lines[-1])
    reason = (stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or [f"exit code {run.returncode}"]
    return {
        "submitted": {},
        "finished": {},
        "errors": {"submit": [f"caller died: {reason[0]}"[:300]] * share, "result": []},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--servers", default="baton,prefect")
    args = parser.parse_args()
    figures = []
    for kind in args.servers.split(","):
        figures.append(measure(kind, args.tasks, args.callers, args.workers))
        print(" | ".join(f"{column}={value}" for column, value in figures[-1].items()), flush=True)
    print(json.dumps({"tasks": args.tasks, "callers": args.callers, "workers": args.workers, "servers": figures}))


if __name__ == "__main__":
    main()

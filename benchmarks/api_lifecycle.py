"""Benchmark the core orchestration REST API of a Prefect-compatible server (Baton or Prefect 3).

What it measures: the latency and throughput of the calls an orchestrated flow run makes, issued directly over
HTTP (no Prefect client, no retries). One flow is created once (``POST /flows/``); then ``--concurrency`` async
workers share ``--runs`` flow runs. For each flow run a worker does, in order:

1. ``POST /flow_runs/`` in state SCHEDULED (scheduled_time = now);
2. ``POST /flow_runs/{id}/set_state`` to PENDING, then RUNNING (each must be ACCEPTed);
3. for each of ``--tasks-per-run`` task runs: ``POST /task_runs/`` (PENDING), then ``set_state`` RUNNING and
   COMPLETED on ``/task_runs/{id}/set_state``;
4. ``POST /logs/`` with ``--logs-per-run`` log lines in one batch;
5. ``POST /flow_runs/{id}/set_state`` to COMPLETED;
6. ``POST /flow_runs/filter`` by the run's id (must find it), then ``GET /flow_runs/{id}`` (must be COMPLETED).

Each HTTP call is one operation, timed on its own and grouped by name. Every non-2xx response and every exception
counts as an error (by status code and a short reason); 5xx responses and bodies mentioning "database is locked"
are also counted separately. A failed flow-run step (create, PENDING, RUNNING, COMPLETED, filter) ends that flow
run's sequence, since the next steps would only fail too; a failed task-run step or log batch only skips that task
run or batch. ``runs_completed`` counts the flow runs whose every call succeeded. Connection errors (e.g. httpx
``ReadError`` when the server drops the connection after an unhandled exception) count as errors too.

The output is a table on stdout and, as the last line, one JSON object with every figure. The exit code is 0
even when operations fail (errors are results); it is 1 only if the server is unreachable at the start.

Run it (server already running)::

    .venv/bin/python benchmarks/api_lifecycle.py --api-url http://127.0.0.1:4200/api --runs 200 --concurrency 32

Options: --runs, --tasks-per-run, --logs-per-run, --concurrency, --server-pid (report the server's RSS via
psutil), --label (free text echoed in the JSON). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

API_VERSION_HEADER = {"X-PREFECT-API-VERSION": "0.8.4"}
OPERATIONS = (
    "create_flow",
    "create_flow_run",
    "set_state_flow_run",
    "create_task_run",
    "set_state_task_run",
    "create_logs",
    "filter_flow_runs",
    "read_flow_run",
)


class StepFailed(Exception):
    """A step of a flow run's sequence failed; the rest of that sequence is skipped."""


@dataclass
class OperationStats:
    """Latencies (seconds) and error count of one operation name."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass
class Results:
    """Everything the workers record."""

    operations: dict[str, OperationStats] = field(
        default_factory=lambda: {name: OperationStats() for name in OPERATIONS}
    )
    errors_by_reason: Counter[str] = field(default_factory=Counter)
    errors_by_status: Counter[str] = field(default_factory=Counter)
    errors_5xx: int = 0
    database_locked: int = 0
    runs_completed: int = 0
    failed_calls: int = 0

    def record_error(self, operation: str, reason: str, status: int | None = None, body: str = "") -> None:
        self.operations[operation].errors += 1
        self.failed_calls += 1
        self.errors_by_reason[f"{operation}: {reason}"] += 1
        self.errors_by_status[str(status) if status is not None else "exception"] += 1
        if status is not None and status >= 500:
            self.errors_5xx += 1
        if "database is locked" in body.lower():
            self.database_locked += 1


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def percentile_ms(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of latencies in seconds, returned in milliseconds."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return round(sorted_values[rank - 1] * 1000.0, 2)


def short_reason(response: httpx.Response) -> str:
    """The status code plus a short message taken from the error body."""
    text = response.text
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("exception_message", "detail", "message"):
            value = body.get(key)
            if isinstance(value, str) and value:
                message = value
                break
    if "database is locked" in text.lower():
        message = "database is locked"
    if not message:
        message = text.strip().replace("\n", " ")
    return f"HTTP {response.status_code} {message[:80]}".rstrip()


# The HTTP client of the worker running the current task (see Bench.worker).
_worker_client: contextvars.ContextVar[httpx.AsyncClient] = contextvars.ContextVar("worker_client")


def make_client(args: argparse.Namespace, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=args.api_url, headers=API_VERSION_HEADER, timeout=httpx.Timeout(30.0), limits=limits
    )


class Bench:
    """Runs the workload against one API URL and records results."""

    def __init__(self, client: httpx.AsyncClient, args: argparse.Namespace) -> None:
        self.shared_client = client
        self.args = args
        self.results = Results()
        self.flow_id = ""

    async def call(self, operation: str, method: str, path: str, body: Any = None) -> Any:
        """One timed HTTP call. Returns the decoded JSON body on 2xx; records the error and raises StepFailed
        otherwise."""
        stats = self.results.operations[operation]
        started = time.perf_counter()
        try:
            response = await self.client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            stats.latencies.append(time.perf_counter() - started)
            detail = str(exc).strip()
            reason = f"{type(exc).__name__}: {detail[:60]}" if detail else type(exc).__name__
            self.results.record_error(operation, reason)
            raise StepFailed(operation) from exc
        stats.latencies.append(time.perf_counter() - started)
        if not 200 <= response.status_code < 300:
            self.results.record_error(operation, short_reason(response), response.status_code, response.text)
            raise StepFailed(operation)
        try:
            return response.json()
        except ValueError as exc:
            self.results.record_error(operation, "invalid JSON body", response.status_code)
            raise StepFailed(operation) from exc

    def check(self, operation: str, ok: bool, reason: str) -> None:
        """A semantic check on a 2xx answer; a failure counts as an error of that operation."""
        if not ok:
            self.results.record_error(operation, reason)
            raise StepFailed(operation)

    async def set_state(self, kind: str, run_id: str, state_type: str) -> None:
        operation = f"set_state_{kind}"
        result = await self.call(
            operation, "POST", f"/{kind}s/{run_id}/set_state", {"state": {"type": state_type}, "force": False}
        )
        status = result.get("status") if isinstance(result, dict) else None
        self.check(operation, status == "ACCEPT", f"{state_type} not accepted: {status}")

    async def create_flow(self) -> None:
        flow = await self.call("create_flow", "POST", "/flows/", {"name": "bench-flow"})
        self.check("create_flow", isinstance(flow, dict) and bool(flow.get("id")), "no flow id in the answer")
        self.flow_id = flow["id"]

    async def one_flow_run(self, index: int) -> None:
        args = self.args
        scheduled = {"type": "SCHEDULED", "state_details": {"scheduled_time": now_iso()}}
        flow_run = await self.call(
            "create_flow_run",
            "POST",
            "/flow_runs/",
            {"flow_id": self.flow_id, "name": f"bench-run-{index}", "state": scheduled},
        )
        run_id: str = flow_run["id"]
        await self.set_state("flow_run", run_id, "PENDING")
        await self.set_state("flow_run", run_id, "RUNNING")

        # A failed task run or log batch is counted and skipped; the flow run goes on, as a real flow would.
        clean = True
        for task_index in range(args.tasks_per_run):
            try:
                await self.one_task_run(run_id, task_index)
            except StepFailed:
                clean = False

        if args.logs_per_run > 0:
            logs = [
                {
                    "name": "bench.logger",
                    "level": 20,
                    "message": f"bench log line {line} of run {index}",
                    "timestamp": now_iso(),
                    "flow_run_id": run_id,
                }
                for line in range(args.logs_per_run)
            ]
            try:
                await self.call("create_logs", "POST", "/logs/", logs)
            except StepFailed:
                clean = False

        await self.set_state("flow_run", run_id, "COMPLETED")

        found = await self.call(
            "filter_flow_runs", "POST", "/flow_runs/filter", {"flow_runs": {"id": {"any_": [run_id]}}, "limit": 10}
        )
        self.check(
            "filter_flow_runs",
            isinstance(found, list) and any(item.get("id") == run_id for item in found),
            "run not found by filter",
        )
        read = await self.call("read_flow_run", "GET", f"/flow_runs/{run_id}")
        state_type = (read.get("state") or {}).get("type") if isinstance(read, dict) else None
        self.check("read_flow_run", state_type == "COMPLETED", f"state is {state_type}, not COMPLETED")
        if clean:
            self.results.runs_completed += 1

    async def one_task_run(self, flow_run_id: str, task_index: int) -> None:
        task_run = await self.call(
            "create_task_run",
            "POST",
            "/task_runs/",
            {
                "flow_run_id": flow_run_id,
                "task_key": f"bench-task-{task_index}",
                "dynamic_key": str(task_index),
                "name": f"bench-task-{task_index}",
                "state": {"type": "PENDING"},
            },
        )
        await self.set_state("task_run", task_run["id"], "RUNNING")
        await self.set_state("task_run", task_run["id"], "COMPLETED")

    @property
    def client(self) -> httpx.AsyncClient:
        return _worker_client.get(self.shared_client)

    async def worker(self, queue: asyncio.Queue[int]) -> None:
        """One simulated client: its own HTTP client with one keep-alive connection, as a flow's process has.
        (One shared httpx pool of 32+ connections costs the benchmark itself ~2.5x the CPU per call at c32.)"""
        async with make_client(self.args, 1) as client:
            _worker_client.set(client)
            await self._work(queue)

    async def _work(self, queue: asyncio.Queue[int]) -> None:
        while True:
            try:
                index = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await self.one_flow_run(index)
            except StepFailed:
                pass
            except Exception as exc:  # a bug or an unexpected body shape: count it, keep going
                self.results.errors_by_reason[f"unexpected: {type(exc).__name__}: {str(exc)[:60]}"] += 1
                self.results.errors_by_status["exception"] += 1

    async def run(self) -> float:
        """Create the flow, run every flow run, return the wall time of the whole workload in seconds."""
        started = time.perf_counter()
        await self.create_flow()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(self.args.runs):
            queue.put_nowait(index)
        await asyncio.gather(*(self.worker(queue) for _ in range(self.args.concurrency)))
        return time.perf_counter() - started


async def check_reachable(client: httpx.AsyncClient, api_url: str) -> str | None:
    """None if GET /health answers 2xx, else a message saying why not."""
    try:
        response = await client.get("/health")
    except httpx.HTTPError as exc:
        return f"cannot reach {api_url}/health: {type(exc).__name__}: {exc}"
    if not 200 <= response.status_code < 300:
        return f"{api_url}/health answered HTTP {response.status_code}: {response.text[:200]}"
    return None


def server_rss_mb(pid: int | None) -> float | None:
    """Resident memory of the server process and its children, in MiB (None if no pid or psutil is missing)."""
    if pid is None:
        return None
    try:
        import psutil
    except ImportError:
        print("psutil is not installed; cannot report the server's RSS", file=sys.stderr)
        return None
    try:
        process = psutil.Process(pid)
        rss = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                rss += child.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error as exc:
        print(f"cannot read the RSS of pid {pid}: {exc}", file=sys.stderr)
        return None
    return round(rss / (1024 * 1024), 1)


def build_report(args: argparse.Namespace, results: Results, wall_seconds: float) -> dict[str, Any]:
    operations: dict[str, dict[str, Any]] = {}
    total_ops = 0
    for name, stats in results.operations.items():
        if not stats.latencies and not stats.errors:
            continue
        ordered = sorted(stats.latencies)
        total_ops += len(ordered)
        operations[name] = {
            "count": len(ordered),
            "errors": stats.errors,
            "p50_ms": percentile_ms(ordered, 0.50),
            "p95_ms": percentile_ms(ordered, 0.95),
            "p99_ms": percentile_ms(ordered, 0.99),
        }
    errors = sum(results.errors_by_reason.values())
    failed_calls = results.failed_calls
    return {
        "label": args.label,
        "api_url": args.api_url,
        "runs": args.runs,
        "tasks_per_run": args.tasks_per_run,
        "logs_per_run": args.logs_per_run,
        "concurrency": args.concurrency,
        "wall_seconds": round(wall_seconds, 3),
        "ops": total_ops,
        "ops_per_second": round(total_ops / wall_seconds, 1) if wall_seconds > 0 else None,
        "ok_ops_per_second": round((total_ops - failed_calls) / wall_seconds, 1) if wall_seconds > 0 else None,
        "runs_completed": results.runs_completed,
        "errors": errors,
        "errors_5xx": results.errors_5xx,
        "database_locked": results.database_locked,
        "errors_by_status": dict(results.errors_by_status.most_common()),
        "errors_by_reason": dict(results.errors_by_reason.most_common()),
        "operations": operations,
        "server_rss_mb": server_rss_mb(args.server_pid),
    }


def format_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_report(report: dict[str, Any]) -> None:
    label = f" [{report['label']}]" if report["label"] else ""
    print(f"API lifecycle benchmark{label}: {report['api_url']}")
    print(
        f"runs={report['runs']} tasks_per_run={report['tasks_per_run']} "
        f"logs_per_run={report['logs_per_run']} concurrency={report['concurrency']}"
    )
    print()
    print(f"{'operation':<20} {'count':>7} {'errors':>7} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")
    for name, op in report["operations"].items():
        print(
            f"{name:<20} {op['count']:>7} {op['errors']:>7} {format_ms(op['p50_ms']):>9} "
            f"{format_ms(op['p95_ms']):>9} {format_ms(op['p99_ms']):>9}"
        )
    print()
    print(f"total operations:   {report['ops']}")
    print(f"wall time:          {report['wall_seconds']:.2f} s")
    print(f"throughput:         {report['ops_per_second']} ops/s ({report['ok_ops_per_second']} ops/s succeeded)")
    print(f"runs completed:     {report['runs_completed']} / {report['runs']}")
    print(
        f"errors:             {report['errors']} (5xx: {report['errors_5xx']}, "
        f"database is locked: {report['database_locked']})"
    )
    if report["errors_by_status"]:
        print("errors by status:   " + ", ".join(f"{k}: {v}" for k, v in report["errors_by_status"].items()))
    for reason, count in report["errors_by_reason"].items():
        print(f"  {count:>6}  {reason}")
    if report["server_rss_mb"] is not None:
        print(f"server RSS:         {report['server_rss_mb']} MiB")
    print(json.dumps(report, sort_keys=False), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure the core orchestration REST API of a Prefect-compatible server (Baton or Prefect)."
    )
    parser.add_argument("--api-url", default="http://127.0.0.1:4200/api", help="base URL of the API")
    parser.add_argument("--runs", type=int, default=200, help="number of flow runs (default 200)")
    parser.add_argument("--tasks-per-run", type=int, default=10, help="task runs per flow run (default 10)")
    parser.add_argument("--logs-per-run", type=int, default=10, help="log lines per flow run, one batch (default 10)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent workers (default 32)")
    parser.add_argument("--server-pid", type=int, default=None, help="report this process's RSS (and its children's)")
    parser.add_argument("--label", default="", help="free text echoed in the output")
    args = parser.parse_args(argv)
    for name in ("runs", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    for name in ("tasks_per_run", "logs_per_run"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must not be negative")
    args.api_url = args.api_url.rstrip("/")
    return args


async def main_async(args: argparse.Namespace) -> int:
    async with make_client(args, 4) as client:
        problem = await check_reachable(client, args.api_url)
        if problem is not None:
            print(f"error: the server is not reachable: {problem}", file=sys.stderr)
            return 1
        bench = Bench(client, args)
        try:
            wall_seconds = await bench.run()
        except StepFailed:
            print("error: could not create the benchmark flow (POST /flows/); no runs were attempted", file=sys.stderr)
            wall_seconds = 0.0
    print_report(build_report(args, bench.results, wall_seconds))
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

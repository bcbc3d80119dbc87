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

With a key (authentication on), every call carries ``Authorization: Bearer KEY``::

    .venv/bin/python benchmarks/api_lifecycle.py --api-url http://127.0.0.1:4200/api --api-key baton_...

``--compare-auth`` measures what authentication costs: it starts two Baton servers itself, each on a fresh database,
one with authentication off and one with ``BATON_AUTH_ENABLED=true`` and a ``worker`` service account (minted in the
database before the server starts), runs the workload on each in turn (``--rounds`` times, alternating which goes
first), and prints both throughputs and their ratio (auth on / auth off).

Options: --runs, --tasks-per-run, --logs-per-run, --concurrency, --server-pid (report the server's RSS via
psutil), --label (free text echoed in the JSON), --api-key, --compare-auth, --rounds, --database (sqlite or a
PostgreSQL admin DSN for --compare-auth). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import contextvars
import functools
import importlib.util
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
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
    headers = dict(API_VERSION_HEADER)
    if args.api_key:
        headers["Authorization"] = f"Bearer {args.api_key}"
    return httpx.AsyncClient(base_url=args.api_url, headers=headers, timeout=httpx.Timeout(30.0), limits=limits)


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
        "failed_calls": failed_calls,
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
    parser.add_argument("--api-key", default=None, help="send 'Authorization: Bearer KEY' with every call")
    parser.add_argument(
        "--compare-auth",
        action="store_true",
        help="start two Baton servers (auth off, auth on with a worker key) and compare their throughput",
    )
    parser.add_argument(
        "--compare-prefect",
        action="store_true",
        help="start Prefect's server (from --prefect-venv) and Baton's, each on a fresh database, and compare them",
    )
    parser.add_argument(
        "--prefect-venv",
        default=str(Path(sys.executable).parent.parent),
        help="with --compare-prefect: the venv whose bin/prefect to start (default: this Python's, where the dev "
        "extras installed prefect==3.9.1)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="with --compare-*: workloads per server (default 2)")
    parser.add_argument(
        "--database",
        default="sqlite",
        help="with --compare-auth: 'sqlite' (files in a temporary folder) or a PostgreSQL admin DSN such as "
        "postgresql://postgres@127.0.0.1:5432/postgres (two databases are created and dropped)",
    )
    args = parser.parse_args(argv)
    for name in ("runs", "concurrency", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    for name in ("tasks_per_run", "logs_per_run"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must not be negative")
    args.api_url = args.api_url.rstrip("/")
    return args


async def measure(args: argparse.Namespace) -> dict[str, Any] | None:
    """The report of one workload against `args.api_url`; None (after saying why) if the server is unreachable."""
    async with make_client(args, 4) as client:
        problem = await check_reachable(client, args.api_url)
        if problem is not None:
            print(f"error: the server is not reachable: {problem}", file=sys.stderr)
            return None
        bench = Bench(client, args)
        try:
            wall_seconds = await bench.run()
        except StepFailed:
            print("error: could not create the benchmark flow (POST /flows/); no runs were attempted", file=sys.stderr)
            wall_seconds = 0.0
    return build_report(args, bench.results, wall_seconds)


async def main_async(args: argparse.Namespace) -> int:
    report = await measure(args)
    if report is None:
        return 1
    print_report(report)
    return 0


# --- --compare-auth: the same workload against a server with authentication off and one with it on ---------------

BENCH_ACCOUNT = "bench-worker"
SERVER_START_SECONDS = 60.0
# Seconds a started server idles before its memory is read.
IDLE_SECONDS = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _prepare_database(url: str, *, mint_key: bool) -> str | None:
    """Migrate the database; with `mint_key`, create the `worker` service account and return its key."""
    from baton.server.auth import identity
    from baton.server.database import migrate
    from baton.server.database.engine import Database

    database = Database(url)
    try:
        await migrate.upgrade(database)
        if not mint_key:
            return None
        async with database.write() as connection:
            _, _, key = await identity.create_service_account(connection, BENCH_ACCOUNT, "worker")
        return key
    finally:
        await database.dispose()


async def _postgres(admin_dsn: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@dataclass
class BenchServer:
    """A server started for a comparison: its API URL, pid, key (auth on) and how it started."""

    api_url: str
    pid: int
    key: str | None
    to_healthy_seconds: float
    idle_rss_mb: float | None = None
    #: Its database's SQLAlchemy URL (set by `bench_server`).
    database_url: str = ""


@contextlib.contextmanager
def scratch_database(args: argparse.Namespace, workdir: Path, name: str) -> Iterator[str]:
    """A fresh database for one server (SQLAlchemy asyncio URL): a file in `workdir`, or a PostgreSQL database made
    from `--database` and dropped afterwards."""
    if args.database == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / (name + '.db')}"
        return
    database = f"baton_bench_{name}_{os.getpid()}"
    asyncio.run(_postgres(args.database, f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}"))
    try:
        yield f"{args.database.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"
    finally:
        asyncio.run(_postgres(args.database, f"DROP DATABASE IF EXISTS {database}"))


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], workdir: Path, name: str) -> Iterator[BenchServer]:
    """Start `command` (a server answering `GET /api/health` on the port it was given in `env["BENCH_PORT"]`), wait
    until it is healthy, then let it idle a moment and read its memory; stopped (SIGTERM, then SIGKILL) at the end."""
    port = env.pop("BENCH_PORT")
    api_url = f"http://127.0.0.1:{port}/api"
    started = time.monotonic()
    with (workdir / "server.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while True:
            try:
                if httpx.get(f"{api_url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > started + SERVER_START_SECONDS:
                raise SystemExit(f"the {name} server did not start; see {workdir / 'server.log'}")
            time.sleep(0.05)
        healthy = time.monotonic() - started
        time.sleep(IDLE_SECONDS)
        yield BenchServer(api_url, process.pid, None, round(healthy, 2), server_rss_mb(process.pid))
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith(("BATON_", "PREFECT_"))}


@contextlib.contextmanager
@functools.cache
def compile_baton() -> None:
    """Compile Baton's modules to bytecode, as `pip install` does for an installed package. A source checkout on a
    machine that sets PYTHONDONTWRITEBYTECODE has none, and every server the benchmark starts would compile every
    module it imports: start-up CPU and memory that a user's install does not pay (benchmarks/README.md)."""
    spec = importlib.util.find_spec("baton")
    assert spec is not None and spec.submodule_search_locations, "baton is not importable"
    for folder in spec.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


def bench_server(
    args: argparse.Namespace,
    workdir: Path,
    name: str,
    *,
    auth: bool,
    ui: bool = False,
    redis_url: str | None = None,
) -> Iterator[BenchServer]:
    """A `baton server start --no-ui` (API, actors and beat in one process; with `ui`, the web UI too) on a fresh
    database, migrated beforehand; with `auth`, authentication on and a worker key. With `redis_url`, the server is
    API only and a `baton server services --processes 1` beside it runs the actors and the beat (a Redis namespace
    of their own, `bench-<name>`)."""
    compile_baton()
    workdir.mkdir(parents=True)
    with scratch_database(args, workdir, name) as database_url:
        key = asyncio.run(_prepare_database(database_url, mint_key=auth))
        port = _free_port()
        env = _clean_environment()
        env.update(
            BENCH_PORT=str(port),
            BATON_HOME=str(workdir),
            BATON_API_DATABASE_CONNECTION_URL=database_url,
            BATON_LOGGING_LEVEL="WARNING",
            BATON_AUTH_ENABLED="true" if auth else "false",
        )
        if redis_url is not None:
            env.update(BATON_REDIS_URL=redis_url, BATON_REDIS_NAMESPACE=f"bench-{name}-{port}")
        command = [sys.executable, "-m", "baton", "server", "start", "--host", "127.0.0.1"]
        if not ui:
            command.append("--no-ui")
        with contextlib.ExitStack() as stack:
            if redis_url is not None:
                stack.enter_context(services_process({k: v for k, v in env.items() if k != "BENCH_PORT"}, workdir))
            server = stack.enter_context(running([*command, "--port", str(port)], env, workdir, name))
            server.key = key
            server.database_url = database_url
            yield server


@contextlib.contextmanager
def services_process(env: dict[str, str], workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`baton server services --processes 1` with `env`, stopped (SIGTERM, then SIGKILL) at the end."""
    command = [sys.executable, "-m", "baton", "server", "services", "--processes", "1"]
    with (workdir / "services.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop_process(process)


@contextlib.contextmanager
def prefect_server(args: argparse.Namespace, workdir: Path, name: str) -> Iterator[BenchServer]:
    """`prefect server start` (API and its services in one process, UI off, as Baton's `--no-ui`) from
    `--prefect-venv` on a fresh database; Prefect migrates it on start, which its start-to-healthy time includes."""
    workdir.mkdir(parents=True)
    prefect = Path(args.prefect_venv) / "bin" / "prefect"
    if not prefect.exists():
        raise SystemExit(f"no Prefect in {args.prefect_venv}: pip install 'prefect==3.9.1' into a venv there")
    with scratch_database(args, workdir, name) as database_url:
        port = _free_port()
        env = _clean_environment()
        env.update(
            BENCH_PORT=str(port),
            PREFECT_HOME=str(workdir),
            PREFECT_API_DATABASE_CONNECTION_URL=database_url,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_UI_ENABLED="false",
            PREFECT_LOGGING_SERVER_LEVEL="WARNING",
        )
        command = [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        with running(command, env, workdir, name) as server:
            yield server


def server_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process and its children so far."""
    import psutil

    process = psutil.Process(pid)
    total = 0.0
    for each in (process, *process.children(recursive=True)):
        try:
            times = each.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _check_auth_is_on(api_url: str) -> None:
    refused = httpx.post(f"{api_url}/flows/filter", json={}, timeout=10.0)
    if refused.status_code != 401:
        raise SystemExit(f"the auth-on server answered {refused.status_code} to a call without a key, not 401")


def _mode_summary(reports: list[dict[str, Any]]) -> dict[str, Any]:
    ops = sum(report["ops"] for report in reports)
    wall = sum(report["wall_seconds"] for report in reports)
    cpu = sum(report["server_cpu_ms_per_op"] * report["ops"] for report in reports)
    ok = ops - sum(report["failed_calls"] for report in reports)
    return {
        "ops": ops,
        "wall_seconds": round(wall, 3),
        "ops_per_second": round(ops / wall, 1) if wall else None,
        "ok_ops_per_second": round(ok / wall, 1) if wall else None,
        "server_cpu_ms_per_op": round(cpu / ops, 3) if ops else None,
        "rounds_ops_per_second": [report["ok_ops_per_second"] for report in reports],
        "errors": sum(report["errors"] for report in reports),
        "errors_5xx": sum(report["errors_5xx"] for report in reports),
        "runs_completed": sum(report["runs_completed"] for report in reports),
    }


def compare_auth(args: argparse.Namespace) -> int:
    """Authentication off against on, both Baton, on fresh databases."""

    def start(stack: contextlib.ExitStack, folder: Path) -> dict[str, BenchServer]:
        servers = {
            mode: stack.enter_context(
                bench_server(args, folder / mode.replace(" ", "-"), mode.replace(" ", "_"), auth=mode == "auth on")
            )
            for mode in ("auth off", "auth on")
        }
        _check_auth_is_on(servers["auth on"].api_url)
        return servers

    return 0 if compare(args, start, "compare_auth") is not None else 1


def compare_prefect(args: argparse.Namespace) -> int:
    """Prefect's server against Baton's, each on a fresh database of the same kind."""

    def start(stack: contextlib.ExitStack, folder: Path) -> dict[str, BenchServer]:
        return {
            "prefect": stack.enter_context(prefect_server(args, folder / "prefect", "prefect")),
            "baton": stack.enter_context(bench_server(args, folder / "baton", "baton", auth=False)),
        }

    return 0 if compare(args, start, "compare_prefect") is not None else 1


def compare(
    args: argparse.Namespace,
    start: Callable[[contextlib.ExitStack, Path], dict[str, BenchServer]],
    kind: str,
) -> dict[str, Any] | None:
    """Run the workload `--rounds` times on each of two servers, alternating which goes first; print both, the
    throughput ratio (second / first) and how each started (seconds to healthy, idle RSS). Returns the record printed
    last (None when a server was unreachable)."""
    with tempfile.TemporaryDirectory(prefix="baton-bench-") as folder, contextlib.ExitStack() as stack:
        servers = start(stack, Path(folder))
        modes = tuple(servers)
        reports: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
        for round_index in range(args.rounds):
            for mode in modes if round_index % 2 == 0 else modes[::-1]:
                server = servers[mode]
                run_args = argparse.Namespace(
                    **{**vars(args), "api_url": server.api_url, "api_key": server.key, "server_pid": server.pid}
                )
                run_args.label = f"{args.label} {mode} round {round_index + 1}".strip()
                cpu_before = server_cpu_seconds(server.pid)
                report = asyncio.run(measure(run_args))
                if report is None:
                    return None
                report["server_cpu_ms_per_op"] = round(
                    (server_cpu_seconds(server.pid) - cpu_before) * 1000 / max(report["ops"], 1), 3
                )
                reports[mode].append(report)
                print(
                    f"{run_args.label}: {report['ok_ops_per_second']} succeeded ops/s, {report['ops']} operations, "
                    f"{report['errors']} errors ({report['errors_5xx']} 5xx), p99 set_state "
                    f"{_set_state_p99(report)} ms, server CPU {report['server_cpu_ms_per_op']} ms per operation",
                    flush=True,
                )
    first, second = modes
    summary = {mode: _mode_summary(reports[mode]) for mode in modes}
    for mode in modes:
        summary[mode]["to_healthy_seconds"] = servers[mode].to_healthy_seconds
        summary[mode]["idle_rss_mb"] = servers[mode].idle_rss_mb
    # Throughput counts the operations that succeeded: a server that fails calls fast must not look faster for it.
    ratio = _ratio(summary[second]["ok_ops_per_second"], summary[first]["ok_ops_per_second"])
    # Each round's two workloads ran back to back, so their ratio is less disturbed by the machine's load drifting.
    paired = sorted(
        b["ok_ops_per_second"] / a["ok_ops_per_second"]
        for a, b in zip(reports[first], reports[second], strict=True)
        if a["ok_ops_per_second"] and b["ok_ops_per_second"]
    )
    paired_median = round(statistics.median(paired), 3) if paired else None
    cpu_ratio = _ratio(summary[second]["server_cpu_ms_per_op"], summary[first]["server_cpu_ms_per_op"])
    print()
    print(
        f"{'server':<10} {'ok ops/s':>8} {'ops':>7} {'errors':>7} {'5xx':>5} {'CPU ms/op':>10} {'healthy s':>10} "
        f"{'idle MB':>8}  ops/s per round"
    )
    for mode in modes:
        figures = summary[mode]
        rounds = ", ".join(str(value) for value in figures["rounds_ops_per_second"])
        print(
            f"{mode:<10} {figures['ok_ops_per_second']:>8} {figures['ops']:>7} {figures['errors']:>7} "
            f"{figures['errors_5xx']:>5} {figures['server_cpu_ms_per_op']:>10} {figures['to_healthy_seconds']:>10} "
            f"{figures['idle_rss_mb']!s:>8}  {rounds}"
        )
    print(f"throughput (succeeded operations/s), {second} / {first}: {ratio} (median of the rounds': {paired_median})")
    print(f"server CPU per operation, {second} / {first}: {cpu_ratio}")
    record = {
        "label": args.label,
        kind: True,
        "database": "sqlite" if args.database == "sqlite" else "postgresql",
        "runs": args.runs,
        "tasks_per_run": args.tasks_per_run,
        "logs_per_run": args.logs_per_run,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "modes": summary,
        "ratio": ratio,
        "paired_ratio_median": paired_median,
        "cpu_ratio": cpu_ratio,
    }
    print(json.dumps(record), flush=True)
    return record


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def _set_state_p99(report: dict[str, Any]) -> float | None:
    """The worst p99 among the set_state operations of a report."""
    values = [op["p99_ms"] for name, op in report["operations"].items() if "state" in name and op["p99_ms"]]
    return max(values) if values else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.compare_auth and args.compare_prefect:
        raise SystemExit("--compare-auth and --compare-prefect are two different comparisons: pick one")
    if args.compare_auth:
        return compare_auth(args)
    if args.compare_prefect:
        return compare_prefect(args)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())

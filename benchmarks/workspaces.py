"""Workspaces against the default workspace (issue 27): the API life cycle through a workspace's URL, and the Runs
page of one workspace among many against a single-workspace install.

Part "api": one `baton server start --no-ui` on a fresh database (`--database`: sqlite, or a PostgreSQL admin DSN) and
one workspace made through `POST /api/workspaces/`; `api_lifecycle.py`'s workload runs `--rounds` times against
`{base}/api` and as many against `{base}/api/accounts/{account}/workspaces/{id}`, alternating which goes first. Target:
the median of the rounds' ratios workspace / default of succeeded ops/s at least 0.95.

Part "pages": two servers with the UI on, running at the same time: A, a single-workspace install whose default
workspace holds `--runs-per-workspace` flow runs, and B, with `--workspaces` workspaces (made through the API) of as
many runs each and an empty default workspace. The runs are inserted with SQLAlchemy Core into each workspace's store
(`Database.for_workspace`: a schema on PostgreSQL, a file beside the main one on SQLite), with ui_pages.py's spread
of states over the last 30 days and three state rows a run, then analysed. Measured, one request at a time and
taking turns between A and B so that the machine's load drifts over both alike: the TTFB of A's `/runs` and of the
runs page of B's middle workspace (`--page-template`), and of the call that lists runs, `POST .../flow_runs/filter`
(50 runs, newest expected start first), at A's `/api` and at B's workspace URL. Target: B's TTFB p95 within 20% of
A's. A page that does not answer 200 is reported as not available, and the API call's figures stand in for it.

Part "idle" (run on its own, not by "all"): one server like install B, with `--runs-per-workspace` runs in each
workspace, left alone: the CPU share of a core it uses over `--idle-seconds` once settled, read from /proc (its
periodic jobs' cost).

    .venv/bin/python benchmarks/workspaces.py                                          # both parts, SQLite
    .venv/bin/python benchmarks/workspaces.py --part idle --runs-per-workspace 20
    .venv/bin/python benchmarks/workspaces.py --part pages --workspaces 5 --runs-per-workspace 200
    .venv/bin/python benchmarks/workspaces.py --database postgresql://postgres@127.0.0.1:5432/postgres

Prints each part's figures and, on its last line, one JSON object with all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from api_lifecycle import API_VERSION_HEADER, BenchServer, bench_server, compare  # noqa: E402  (a sibling script)
from ui_pages import measure_page, percentile  # noqa: E402

TARGET_OPS_RATIO = 0.95
TARGET_TTFB_P95_RATIO = 1.20
# The Runs page's list as the API gives it: the first 50 runs, newest expected start first.
RUNS_PAGE_SIZE = 50
RUNS_FILTER = {"sort": "EXPECTED_START_TIME_DESC", "limit": RUNS_PAGE_SIZE}
SEED_FLOWS = 20
SEED_DAYS = 30


@dataclasses.dataclass(frozen=True)
class Workspace:
    id: str
    account_id: str

    def api_url(self, api_url: str) -> str:
        return f"{api_url}/accounts/{self.account_id}/workspaces/{self.id}"


def create_workspace(api_url: str, name: str) -> Workspace:
    response = httpx.post(f"{api_url}/workspaces/", json={"name": name}, timeout=60.0)
    if response.status_code != 201:
        raise SystemExit(f"POST {api_url}/workspaces/ answered {response.status_code}: {response.text[:300]}")
    body = response.json()
    return Workspace(body["id"], body["account_id"])


# --- part "api" -----------------------------------------------------------------------------------------------------


def api_part(args: argparse.Namespace) -> dict[str, Any] | None:
    """The life cycle at `/api` against a workspace's URL on one server (api_lifecycle.compare); None on failure."""

    def start(stack: contextlib.ExitStack, folder: Path) -> dict[str, BenchServer]:
        server = stack.enter_context(bench_server(args, folder / "server", "workspaces_api", auth=False))
        workspace = create_workspace(server.api_url, "bench")
        return {"default": server, "workspace": dataclasses.replace(server, api_url=workspace.api_url(server.api_url))}

    record = compare(args, start, "compare_workspaces")
    if record is None:
        return None
    ratio = record["paired_ratio_median"]
    record["target"] = TARGET_OPS_RATIO
    record["meets_target"] = ratio is not None and ratio >= TARGET_OPS_RATIO
    verdict = "met" if record["meets_target"] else "NOT met"
    print(
        f"API life cycle, workspace / default (median of the rounds): {ratio}; target >= {TARGET_OPS_RATIO}: {verdict}"
    )
    return record


# --- part "pages": seeding ------------------------------------------------------------------------------------------


def _state_kind(index: int, spread: int, runs: int) -> str:
    """ui_pages.py's spread of states (SEED_RUNS), for run `index` (1 = newest)."""
    if index <= runs // 2000 and spread < 500:
        return "RUNNING"
    for bound, kind in ((850, "COMPLETED"), (900, "FAILED"), (910, "CRASHED"), (930, "CANCELLED"), (935, "LATE")):
        if spread < bound:
            return kind
    return "COMPLETED"


def seed_rows(runs: int, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of flows, flow runs and flow-run states for one workspace: `runs` runs expected to start over the last
    SEED_DAYS days, with the current state and the Scheduled and Running ones before it."""
    flows = [{"id": uuid.uuid4(), "name": f"bench-flow-{n:02d}", "tags": [], "labels": {}} for n in range(SEED_FLOWS)]
    flow_runs: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    for index in range(1, runs + 1):
        spread = index * 7919 % 1000
        kind = _state_kind(index, spread, runs)
        expected = now - timedelta(seconds=SEED_DAYS * 86400 * index / runs)
        started = None if kind == "LATE" else expected + timedelta(seconds=spread % 30)
        ended = None if started is None or kind == "RUNNING" else started + timedelta(seconds=60 + spread % 600)
        state_time = ended or started or expected + timedelta(seconds=15)
        run_id, state_id, flow = uuid.uuid4(), uuid.uuid4(), flows[index % SEED_FLOWS]
        state_type, state_name = ("SCHEDULED", "Late") if kind == "LATE" else (kind, kind.title())
        flow_runs.append(
            {
                "id": run_id,
                "created": expected - timedelta(minutes=1),
                "updated": state_time,
                "name": f"bench-run-{index}",
                "flow_id": flow["id"],
                "parameters": {"batch": index},
                "context": {},
                "empirical_policy": {"retries": 0, "retry_delay": 0},
                "tags": ["nightly" if index % 3 == 0 else "adhoc", *(["prod"] if index % 7 == 0 else [])],
                "labels": {"prefect.flow.id": str(flow["id"])},
                "job_variables": {},
                "auto_scheduled": False,
                "run_count": 0 if started is None else 1,
                "total_run_time": 0.0 if ended is None else float(60 + spread % 600),
                "state_id": state_id,
                "state_type": state_type,
                "state_name": state_name,
                "state_timestamp": state_time,
                "expected_start_time": expected,
                "start_time": started,
                "end_time": ended,
            }
        )
        history = [(uuid.uuid4(), "SCHEDULED", "Scheduled", expected - timedelta(minutes=1))]
        if started is not None and kind != "RUNNING":
            history.append((uuid.uuid4(), "RUNNING", "Running", started))
        history.append((state_id, state_type, state_name, state_time))
        for id_, type_, name, timestamp in history:
            states.append(
                {
                    "id": id_,
                    "created": timestamp,
                    "updated": timestamp,
                    "flow_run_id": run_id,
                    "type": type_,
                    "name": name,
                    "timestamp": timestamp,
                    "message": "Flow run encountered an exception: ValueError"
                    if id_ == state_id and kind == "FAILED"
                    else None,
                    "state_details": {"flow_run_id": str(run_id)},
                }
            )
    return flows, flow_runs, states


async def seed_stores(database_url: str, workspace_ids: list[uuid.UUID | None], runs: int) -> None:
    """Insert `runs` runs into the store of each workspace (None: the default one), then analyse its tables."""
    from baton.server.database.engine import Database
    from baton.server.database.tables import flow, flow_run, flow_run_state

    main = Database(database_url)
    try:
        for workspace_id in workspace_ids:
            store = main.for_workspace(workspace_id)
            flows, flow_runs, states = seed_rows(runs, datetime.now(UTC))
            async with store.write() as connection:
                await connection.execute(flow.insert(), flows)
                await connection.execute(flow_run.insert(), flow_runs)
                await connection.execute(flow_run_state.insert(), states)
            async with store.write() as connection:
                for table in ("flow", "flow_run", "flow_run_state"):
                    # Unqualified: a workspace's transaction finds its own tables first (its search_path on PostgreSQL).
                    await connection.exec_driver_sql(f"ANALYZE {table}")
            if workspace_id is not None:
                await main.forget_workspace(workspace_id)
    finally:
        await main.dispose()


# --- part "pages": measuring ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    """One page or API call to time: on which server, how."""

    label: str
    server: BenchServer
    path: str
    method: str = "GET"
    body: Any = None


def measure_taking_turns(targets: list[Target], requests: int, warmup: int) -> dict[str, dict[str, Any]]:
    """`ui_pages.measure_page`'s figures for each target, its requests taken in turns with the other targets' (one
    at a time, each server on its own keep-alive connection), after `warmup` unmeasured ones each."""
    samples: dict[str, list[dict[str, Any]]] = {target.label: [] for target in targets}
    with contextlib.ExitStack() as stack:
        clients = {
            target.label: stack.enter_context(
                httpx.Client(
                    base_url=target.server.api_url.removesuffix("/api"), headers=API_VERSION_HEADER, timeout=60
                )
            )
            for target in targets
        }
        for index in range(warmup + requests):
            for target in targets if index % 2 == 0 else targets[::-1]:
                sample = measure_page(clients[target.label], target.path, 1, 0, method=target.method, body=target.body)
                if index >= warmup:
                    samples[target.label].append(sample)
    return {label: _summary(label_samples) for label, label_samples in samples.items()}


def check_seeded(targets: list[Target], runs: int, many: BenchServer) -> None:
    """Each API target lists a full first page of runs, and install B's default workspace none (the runs went into
    the workspaces' stores)."""
    expected = [(target, min(runs, RUNS_PAGE_SIZE)) for target in targets if target.method == "POST"]
    for target, count in [*expected, (Target("B: default workspace", many, "/api/flow_runs/filter"), 0)]:
        url = target.server.api_url.removesuffix("/api") + target.path
        found = httpx.post(url, json=RUNS_FILTER, headers=API_VERSION_HEADER, timeout=60.0).json()
        if not isinstance(found, list) or len(found) != count:
            raise SystemExit(
                f"{target.label}: {url} lists {found if not isinstance(found, list) else len(found)} runs, not {count}"
            )


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` and its threads so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_settled(servers: dict[str, BenchServer], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Wait until every server's CPU use over `--settle-window` seconds is under `--settle-cpu` of a core (at most
    `--settle-timeout` seconds): the rows seeded behind the servers' backs are new to their services, whose first
    passes over 50 stores (each store's connections opened and its statements compiled for the first time) are the
    servers' start-up, not the steady state the target is about. Returns, per server, the seconds it took and the CPU
    share of its last window."""
    started = time.monotonic()
    settled: dict[str, dict[str, float]] = {}
    while len(settled) < len(servers):
        before = {name: process_cpu_seconds(server.pid) for name, server in servers.items() if name not in settled}
        time.sleep(args.settle_window)
        waited = time.monotonic() - started
        for name, cpu in before.items():
            share = (process_cpu_seconds(servers[name].pid) - cpu) / args.settle_window
            if share < args.settle_cpu or waited >= args.settle_timeout:
                settled[name] = {"seconds": round(waited, 1), "cpu_share": round(share, 3)}
    for name, figures in settled.items():
        print(f"{name}: settled after {figures['seconds']} s, {figures['cpu_share']:.1%} of a core idle", flush=True)
    return settled


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    ttfb = [sample["ttfb_p50_ms"] for sample in samples]
    full = [sample["full_p50_ms"] for sample in samples]
    return {
        "path": samples[0]["path"],
        "status": sorted({status for sample in samples for status in sample["status"]}),
        "bytes": samples[-1]["bytes"],
        "ttfb_p50_ms": percentile(ttfb, 0.5),
        "ttfb_p95_ms": percentile(ttfb, 0.95),
        "ttfb_max_ms": max(ttfb),
        "full_p50_ms": percentile(full, 0.5),
        "full_p95_ms": percentile(full, 0.95),
    }


def pages_part(args: argparse.Namespace) -> dict[str, Any]:
    """Install A (one workspace of N runs) against install B (`--workspaces` workspaces of N runs each)."""
    with tempfile.TemporaryDirectory(prefix="baton-bench-workspaces-") as folder, contextlib.ExitStack() as stack:
        redis_url = args.redis_url if args.mode == "redis" else None
        single = stack.enter_context(
            bench_server(args, Path(folder) / "single", "ws_single", auth=False, ui=True, redis_url=redis_url)
        )
        many = stack.enter_context(
            bench_server(args, Path(folder) / "many", "ws_many", auth=False, ui=True, redis_url=redis_url)
        )
        started = time.perf_counter()
        workspaces = [create_workspace(many.api_url, f"bench-{n:03d}") for n in range(args.workspaces)]
        create_seconds = time.perf_counter() - started
        started = time.perf_counter()
        asyncio.run(seed_stores(single.database_url, [None], args.runs_per_workspace))
        asyncio.run(seed_stores(many.database_url, [uuid.UUID(w.id) for w in workspaces], args.runs_per_workspace))
        seed_seconds = time.perf_counter() - started
        print(
            f"made {args.workspaces} workspaces through the API in {create_seconds:.1f} s; inserted "
            f"{args.runs_per_workspace:,} runs into each store (and the single install's) in {seed_seconds:.1f} s",
            flush=True,
        )
        measured = workspaces[len(workspaces) // 2]
        page = args.page_template.format(workspace_id=measured.id, account_id=measured.account_id)
        workspace_api = measured.api_url("/api")
        targets = [
            Target("A: /runs", single, "/runs"),
            Target("B: workspace runs page", many, page),
            Target("A: /api flow_runs/filter", single, "/api/flow_runs/filter", "POST", RUNS_FILTER),
            Target("B: workspace flow_runs/filter", many, f"{workspace_api}/flow_runs/filter", "POST", RUNS_FILTER),
        ]
        check_seeded(targets, args.runs_per_workspace, many)
        settled = wait_until_settled({"A": single, "B": many}, args)
        results = measure_taking_turns(targets, args.requests, args.warmup)
    report = _pages_report(args, results, create_seconds, seed_seconds)
    report["settled"] = settled
    report["mode"] = args.mode
    return report


def _pages_report(
    args: argparse.Namespace, results: dict[str, dict[str, Any]], create_seconds: float, seed_seconds: float
) -> dict[str, Any]:
    print(f"\n{args.requests} requests each, one at a time, taking turns; ms")
    print(
        f"{'target':32s} {'status':>8s} {'KiB':>7s} {'TTFB p50':>9s} {'TTFB p95':>9s} {'full p50':>9s} {'full p95':>9s}"
    )
    for label, row in results.items():
        print(
            f"{label:32s} {','.join(map(str, row['status'])):>8s} {row['bytes'] / 1024:7.1f} {row['ttfb_p50_ms']:9.1f} "
            f"{row['ttfb_p95_ms']:9.1f} {row['full_p50_ms']:9.1f} {row['full_p95_ms']:9.1f}"
        )
    (single_page, many_page, single_api, many_api) = results.values()
    page_available = many_page["status"] == [200] and single_page["status"] == [200]
    report: dict[str, Any] = {
        "workspaces": args.workspaces,
        "runs_per_workspace": args.runs_per_workspace,
        "requests": args.requests,
        "create_workspaces_seconds": round(create_seconds, 1),
        "seed_seconds": round(seed_seconds, 1),
        "target_ttfb_p95_ratio": TARGET_TTFB_P95_RATIO,
        "page_available": page_available,
        "targets": results,
    }
    for kind, (a, b) in (("page", (single_page, many_page)), ("api", (single_api, many_api))):
        if kind == "page" and not page_available:
            report["page_ratio"] = None
            report["page_meets_target"] = None
            print(
                f"the workspace Runs page {many_page['path']} answered {many_page['status']}: not available on this "
                "build, so the API call's figures stand in for it"
            )
            continue
        ratio = round(b["ttfb_p95_ms"] / a["ttfb_p95_ms"], 3) if a["ttfb_p95_ms"] else None
        meets = ratio is not None and ratio <= TARGET_TTFB_P95_RATIO
        report[f"{kind}_ratio"] = ratio
        report[f"{kind}_meets_target"] = meets
        print(
            f"TTFB p95, {kind}, B (workspace of {args.workspaces}) / A (single install): {ratio}; target <= "
            f"{TARGET_TTFB_P95_RATIO}: {'met' if meets else 'NOT met'}"
        )
    return report


# --- part "idle" ----------------------------------------------------------------------------------------------------


def idle_part(args: argparse.Namespace) -> dict[str, Any]:
    """The CPU an idle server with `--workspaces` workspaces of `--runs-per-workspace` runs each uses (its periodic
    jobs), read from /proc over `--idle-seconds` once it settled."""
    with tempfile.TemporaryDirectory(prefix="baton-bench-workspaces-") as folder, contextlib.ExitStack() as stack:
        redis_url = args.redis_url if args.mode == "redis" else None
        many = stack.enter_context(
            bench_server(args, Path(folder) / "many", "ws_idle", auth=False, ui=True, redis_url=redis_url)
        )
        workspaces = [create_workspace(many.api_url, f"bench-{n:03d}") for n in range(args.workspaces)]
        asyncio.run(seed_stores(many.database_url, [uuid.UUID(w.id) for w in workspaces], args.runs_per_workspace))
        settled = wait_until_settled({"server": many}, args)
        load_before = os.getloadavg()[0]
        before = process_cpu_seconds(many.pid)
        time.sleep(args.idle_seconds)
        share = (process_cpu_seconds(many.pid) - before) / args.idle_seconds
    print(
        f"idle server, {args.workspaces} workspaces of {args.runs_per_workspace} runs: {share:.2%} of a core over "
        f"{args.idle_seconds:.0f} s (load average {load_before:.1f} -> {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return {
        "workspaces": args.workspaces,
        "runs_per_workspace": args.runs_per_workspace,
        "seconds": args.idle_seconds,
        "cpu_share": round(share, 4),
        "settled": settled,
        "mode": args.mode,
    }


# --- the command ----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("api", "pages", "idle", "all"), default="all")
    parser.add_argument(
        "--database", default="sqlite", help="'sqlite' (files in a temporary folder) or a PostgreSQL admin DSN"
    )
    parser.add_argument("--label", default="")
    api = parser.add_argument_group("part api (api_lifecycle.py's workload)")
    api.add_argument("--runs", type=int, default=200, help="flow runs per workload")
    api.add_argument("--tasks-per-run", type=int, default=10)
    api.add_argument("--logs-per-run", type=int, default=10)
    api.add_argument("--concurrency", type=int, default=32)
    api.add_argument("--rounds", type=int, default=2, help="workloads per URL, alternating which goes first")
    pages = parser.add_argument_group("part pages")
    pages.add_argument("--workspaces", type=int, default=50, help="workspaces of install B")
    pages.add_argument("--runs-per-workspace", type=int, default=2000)
    pages.add_argument(
        "--page-template",
        default="/workspaces/{workspace_id}/runs",
        help="the path of a workspace's Runs page ({workspace_id}, {account_id})",
    )
    pages.add_argument("--requests", type=int, default=200, help="measured requests per page and call")
    pages.add_argument("--warmup", type=int, default=5, help="unmeasured requests per page and call first")
    pages.add_argument(
        "--mode",
        choices=("embedded", "redis"),
        default="embedded",
        help="embedded: each server runs its actors and beat in its own process (the default set-up); redis: each "
        "server is API only, with a `baton server services` process beside it",
    )
    pages.add_argument("--redis-url", default="redis://127.0.0.1:6379/9", help="with --mode redis")
    pages.add_argument(
        "--settle-cpu", type=float, default=0.25, help="measure once each server uses less than this share of a core"
    )
    pages.add_argument("--settle-window", type=float, default=5.0, help="seconds over which the share is read")
    pages.add_argument("--settle-timeout", type=float, default=300.0, help="measure after this many seconds anyway")
    pages.add_argument(
        "--idle-seconds", type=float, default=60.0, help="part idle (not in all): seconds over which the CPU is read"
    )
    args = parser.parse_args(argv)
    for name in ("runs", "concurrency", "rounds", "workspaces", "runs_per_workspace", "requests"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    # What api_lifecycle's workload reads besides.
    args.api_key = None
    args.server_pid = None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()
    record: dict[str, Any] = {"label": args.label, "database": "sqlite" if args.database == "sqlite" else "postgresql"}
    if args.part in ("api", "all"):
        record["api"] = api_part(args)
        if record["api"] is None:
            return 1
    if args.part in ("pages", "all"):
        record["pages"] = pages_part(args)
    if args.part == "idle":
        record["idle"] = idle_part(args)
    record["load_average"] = {"start": round(load_before[0], 1), "end": round(os.getloadavg()[0], 1)}
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

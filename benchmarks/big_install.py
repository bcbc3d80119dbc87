"""A big install on PostgreSQL: page and API times over 5,000,000 flow runs, 50,000,000 task-run states and
50,000,000 log lines, and 200 concurrent state changes on a few hot runs at READ COMMITTED and REPEATABLE READ.

Seeds its own database (`baton_big`, migrated with `baton server database upgrade`) in SQL, INSERT ... SELECT over
generate_series with the secondary indexes dropped during the load and built after it: `--scale` 1 is the issue's
size, `--scale 0.1` a tenth of it (the big run keeps its `--big-run-logs` lines whatever the scale). The seed:

* 50 flows, 200 deployments over 3 work pools (one queue each); four runs in five belong to a deployment;
* flow runs expected to start over the last `--days` days, mostly Completed, some Failed, Crashed, Cancelled, Late and
  Running, plus 1% scheduled for the next day; tags `nightly` or `adhoc`, and `prod` on one run in seven; three
  flow-run states per run;
* on one run in three (not Late ones), task runs with three states each (Pending, Running, final), as many as make
  the task-run states number 50,000,000 x scale;
* log lines, 50,000,000 x scale spread over the runs, plus `--big-run-logs` (1,000,000) on one run.

Then it starts `baton server start` (authentication off, the UI on) and measures, one request at a time, the TTFB of
the dashboard, the Runs page with each of its filters, a deployment's page, a run page, the big run's log view and a
search in it, `POST /api/flow_runs/filter` with the bodies `prefect flow-run ls` and the client send, and
`POST /api/flow_runs/history`. Last, for each isolation level, 200 concurrent `set_state` calls over HTTP on 5 hot
runs, counting answers that are not 2xx, deadlocks (pg_stat_database) and the transactions the server retried.

    .venv/bin/python benchmarks/big_install.py --scale 0.1 --keep     # seed a tenth, measure, keep the database
    .venv/bin/python benchmarks/big_install.py --reuse --keep          # measure again without seeding
    .venv/bin/python benchmarks/big_install.py                         # the issue's size

Prints the seed's timings and size, a table of figures and, on its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from ui_pages import (  # noqa: E402  (a sibling script, not a package)
    INSERT_BIG_RUN_LOGS,
    INSERT_FLOW_RUN_STATES,
    INSERT_FLOWS,
    INSERT_SCHEDULED_RUNS,
    INSERT_SPREAD_LOGS,
    SEED_RUNS,
    admin_url,
    baton,
    baton_env,
    execute_autocommit,
    free_port,
    measure_page,
    percentile,
    run_sql,
    scalar,
    start_server,
    stop_server,
)

DEFAULT_DATABASE = "baton_big"
DEFAULT_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DEFAULT_DATABASE}"
FULL_RUNS = 5_000_000
FULL_TASK_RUN_STATES = 50_000_000
FULL_LOGS = 50_000_000
TARGET_P95_MS = 300.0
TARGET_LOG_SEARCH_P95_MS = 500.0
BENCH_TAG = "prod"
FLOWS = 50
DEPLOYMENTS = 200
WORK_POOLS = 3
ISOLATION_LEVELS = ("READ COMMITTED", "REPEATABLE READ")
# What the server logs when it retries a transaction (baton.server.database.engine).
RETRY_LOG_MARK = "retrying the transaction"

# --- seeding --------------------------------------------------------------------------------------------------------

INSERT_WORK_POOLS = """
INSERT INTO work_pool (id, created, updated, name, type, base_job_template, is_paused, status, storage_configuration)
SELECT gen_random_uuid(), now(), now(), 'bench-pool-' || n, 'process', '{}'::jsonb, false, 'READY', '{}'::jsonb
FROM generate_series(0, :pools - 1) AS n;
INSERT INTO work_queue (id, created, updated, name, description, is_paused, priority, status, work_pool_id)
SELECT gen_random_uuid(), now(), now(), 'default', '', false, 1, 'READY', id FROM work_pool
WHERE name LIKE 'bench-pool-%';
UPDATE work_pool SET default_queue_id = q.id FROM work_queue q WHERE q.work_pool_id = work_pool.id
"""

INSERT_DEPLOYMENTS = """
WITH flows AS (SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM flow WHERE name LIKE 'bench-flow-%'),
     queues AS (SELECT q.id, row_number() OVER (ORDER BY p.name) - 1 AS n
                FROM work_queue q JOIN work_pool p ON p.id = q.work_pool_id WHERE p.name LIKE 'bench-pool-%')
INSERT INTO deployment (id, created, updated, name, flow_id, work_queue_name, work_queue_id, status, paused,
                        job_variables, tags, parameters, enforce_parameter_schema, entrypoint)
SELECT gen_random_uuid(), now(), now(), 'bench-deployment-' || lpad(d::text, 3, '0'), flows.id, 'default', queues.id,
       'READY', false, '{}'::jsonb, '[]'::jsonb, '{}'::jsonb, false, 'flows.py:main'
FROM generate_series(0, :deployments - 1) AS d
JOIN flows ON flows.n = d % :flows JOIN queues ON queues.n = d % :pools
"""

# A run i has deployment i % deployments (unless i % 5 = 0), whose flow is that deployment's; the state kinds come
# from ui_pages' SEED_RUNS.
INSERT_FLOW_RUNS = """
WITH flows AS (SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM flow WHERE name LIKE 'bench-flow-%'),
     deployments AS (SELECT id, flow_id, work_queue_id, row_number() OVER (ORDER BY name) - 1 AS n
                     FROM deployment WHERE name LIKE 'bench-deployment-%')
INSERT INTO flow_run (
    id, created, updated, name, flow_id, deployment_id, work_queue_id, work_queue_name, parameters, context,
    empirical_policy, tags, labels, job_variables, auto_scheduled, run_count, total_run_time, state_id, state_type,
    state_name, state_timestamp, expected_start_time, start_time, end_time)
SELECT s.id, s.expected - interval '1 minute', s.expected, 'bench-run-' || s.i,
       coalesce(d.flow_id, flows.id), d.id, d.work_queue_id, CASE WHEN d.id IS NOT NULL THEN 'default' END,
       jsonb_build_object('batch', s.i), '{}'::jsonb, '{"retries": 0, "retry_delay": 0}'::jsonb,
       CASE WHEN s.i % 7 = 0 THEN jsonb_build_array(CASE WHEN s.i % 3 = 0 THEN 'nightly' ELSE 'adhoc' END, 'prod')
            ELSE jsonb_build_array(CASE WHEN s.i % 3 = 0 THEN 'nightly' ELSE 'adhoc' END) END,
       '{}'::jsonb, '{}'::jsonb,
       d.id IS NOT NULL, CASE WHEN k.kind = 'LATE' THEN 0 ELSE 1 END,
       CASE WHEN k.kind IN ('LATE', 'RUNNING') THEN 0 ELSE 60 + s.r % 600 END,
       s.state_id,
       CASE k.kind WHEN 'LATE' THEN 'SCHEDULED' ELSE k.kind END,
       CASE k.kind WHEN 'LATE' THEN 'Late' ELSE initcap(k.kind) END,
       CASE k.kind WHEN 'LATE' THEN s.expected + interval '15 seconds'
                   WHEN 'RUNNING' THEN s.expected + make_interval(secs => s.r % 30)
                   ELSE s.expected + make_interval(secs => s.r % 30 + 60 + s.r % 600) END,
       s.expected,
       CASE WHEN k.kind = 'LATE' THEN NULL ELSE s.expected + make_interval(secs => s.r % 30) END,
       CASE WHEN k.kind IN ('LATE', 'RUNNING') THEN NULL
            ELSE s.expected + make_interval(secs => s.r % 30 + 60 + s.r % 600) END
FROM seed_run s JOIN seed_state k USING (i)
JOIN flows ON flows.n = s.i % :flows
LEFT JOIN deployments d ON s.i % 5 <> 0 AND d.n = s.i % :deployments
"""

# `:tasks` task runs on every third run that started; the last one shares a Failed or Running run's state.
INSERT_TASK_RUNS = """
INSERT INTO task_run (
    id, created, updated, name, flow_run_id, task_key, dynamic_key, flow_run_run_count, empirical_policy,
    task_inputs, tags, labels, run_count, total_run_time, state_id, state_type, state_name, state_timestamp,
    expected_start_time, start_time, end_time)
SELECT gen_random_uuid(), x.started, x.started, 'step_' || n || '-' || f.i, f.id, 'step_' || n, '0', 1,
       '{"max_retries": 0, "retry_delay_seconds": 0}'::jsonb, '{}'::jsonb, '[]'::jsonb, '{}'::jsonb,
       1, CASE WHEN x.kind = 'RUNNING' THEN 0 ELSE 2 END, gen_random_uuid(), x.kind, initcap(x.kind),
       x.started + CASE WHEN x.kind = 'RUNNING' THEN interval '0' ELSE interval '2 seconds' END,
       x.started, x.started, CASE WHEN x.kind = 'RUNNING' THEN NULL ELSE x.started + interval '2 seconds' END
FROM (SELECT s.i, s.id, s.expected FROM seed_run s JOIN seed_state k USING (i)
      WHERE s.i % 3 = 0 AND k.kind <> 'LATE') AS f
JOIN seed_state k USING (i)
CROSS JOIN generate_series(1, :tasks) AS n
CROSS JOIN LATERAL (
    SELECT f.expected + make_interval(secs => 30 + n * 3) AS started,
           CASE WHEN n = :tasks AND k.kind IN ('FAILED', 'RUNNING') THEN k.kind ELSE 'COMPLETED' END AS kind
) AS x
"""

INSERT_TASK_RUN_STATES = """
INSERT INTO task_run_state (id, created, updated, task_run_id, type, name, timestamp, state_details)
SELECT gen_random_uuid(), r.start_time - interval '1 second', r.start_time - interval '1 second', r.id,
       'PENDING', 'Pending', r.start_time - interval '1 second',
       jsonb_build_object('task_run_id', r.id::text, 'flow_run_id', r.flow_run_id::text)
FROM task_run r
UNION ALL
SELECT CASE WHEN r.state_type = 'RUNNING' THEN r.state_id ELSE gen_random_uuid() END, r.start_time, r.start_time,
       r.id, 'RUNNING', 'Running', r.start_time,
       jsonb_build_object('task_run_id', r.id::text, 'flow_run_id', r.flow_run_id::text)
FROM task_run r
UNION ALL
SELECT r.state_id, r.state_timestamp, r.state_timestamp, r.id, r.state_type, r.state_name, r.state_timestamp,
       jsonb_build_object('task_run_id', r.id::text, 'flow_run_id', r.flow_run_id::text)
FROM task_run r WHERE r.state_type <> 'RUNNING'
"""

SEEDED_TABLES = ("flow_run", "flow_run_state", "task_run", "task_run_state", "log")


def sizes(scale: float, args: argparse.Namespace) -> dict[str, int]:
    runs = max(1000, round(FULL_RUNS * scale))
    return {
        "runs": runs,
        "days": args.days,
        "flows": FLOWS,
        "deployments": DEPLOYMENTS,
        "pools": WORK_POOLS,
        # One run in three holds task runs with three states each.
        "tasks": max(1, round(FULL_TASK_RUN_STATES * scale / runs)),
        "logs": round(FULL_LOGS * scale),
    }


def seed(url: sa.URL, args: argparse.Namespace) -> list[tuple[str, float, int]]:
    size = sizes(args.scale, args)
    timings = asyncio.run(
        run_sql(
            url,
            [
                # The seed's references are right by construction: no foreign-key trigger per row.
                ("no triggers", "SET LOCAL session_replication_role = replica", {}),
                ("seed tables", SEED_RUNS, size),
                ("flows", INSERT_FLOWS, size),
                ("work pools", INSERT_WORK_POOLS, size),
                ("deployments", INSERT_DEPLOYMENTS, size),
                ("flow runs", INSERT_FLOW_RUNS, size),
                ("scheduled runs", INSERT_SCHEDULED_RUNS, size),
                ("flow-run states", INSERT_FLOW_RUN_STATES, {}),
                ("task runs", INSERT_TASK_RUNS, size),
                ("task-run states", INSERT_TASK_RUN_STATES, {}),
                ("spread logs", INSERT_SPREAD_LOGS, {"runs": size["runs"], "lines": size["logs"]}),
                ("big run logs", INSERT_BIG_RUN_LOGS, {"lines": args.big_run_logs}),
            ],
            unindexed=SEEDED_TABLES,
        )
    )
    started = time.perf_counter()
    asyncio.run(execute_autocommit(url, "VACUUM ANALYZE"))
    timings.append(("vacuum analyze", time.perf_counter() - started, 0))
    return timings


async def is_seeded(url: sa.URL) -> bool:
    try:
        return bool(await scalar(url, "SELECT count(*) FROM deployment WHERE name LIKE 'bench-deployment-%'"))
    except Exception:  # no such database or no schema yet: not seeded
        return False


async def database_size(url: sa.URL) -> str:
    return str(await scalar(url, "SELECT pg_size_pretty(pg_database_size(current_database()))"))


def big_run_number(runs: int) -> int:
    """The i of ui_pages' big run (`seed_big`): the first Completed run after the twentieth."""
    for i in range(21, runs + 1):
        r = i * 7919 % 1000
        if not (i <= runs // 2000 and r < 500) and not 850 <= r < 935:
            return i
    raise ValueError("no run is Completed")


async def landmarks(url: sa.URL, big_run_logs: int) -> dict[str, str]:
    """Ids and values the requests use: the big run, a recent run with task runs, a flow and its name, a deployment,
    and a search term found on one line of the big run's log (its checksum)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    runs = await scalar(url, "SELECT count(*) FROM flow_run WHERE name LIKE 'bench-run-%'")
    queries = {
        "big_run": f"SELECT id FROM flow_run WHERE name = 'bench-run-{big_run_number(runs)}'",
        "run": "SELECT id FROM flow_run WHERE name = 'bench-run-30'",
        "flow": "SELECT id FROM flow WHERE name = 'bench-flow-07'",
        "deployment": "SELECT id FROM deployment WHERE name = 'bench-deployment-017'",
    }
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            found = {name: str((await connection.exec_driver_sql(sql)).scalar()) for name, sql in queries.items()}
    finally:
        await engine.dispose()
    line = max(1, big_run_logs // 2 + 1)
    return {**found, "flow_name": "bench-flow-07", "rare": hashlib.md5(str(line).encode()).hexdigest()[:12]}


# --- the requests ---------------------------------------------------------------------------------------------------


def client_filter(**parts: Any) -> dict[str, Any]:
    """A `POST /flow_runs/filter` body as the Prefect client writes it: every top-level filter, null when unused."""
    body: dict[str, Any] = dict.fromkeys(
        ("flows", "flow_runs", "task_runs", "deployments", "work_pools", "work_pool_queues")
    )
    body.update({"sort": "EXPECTED_START_TIME_DESC", "limit": 15, "offset": 0})
    body.update(parts)
    return body


def requests_to_measure(marks: dict[str, str], big_run_logs: int) -> list[tuple[str, str, str, Any]]:
    """(label, method, path, JSON body) of every measured request."""
    now = dt.datetime.now(dt.UTC)
    day_ago, week_ago = now - dt.timedelta(days=1), now - dt.timedelta(days=7)
    run_range = f"from={(now - dt.timedelta(days=3)).strftime('%Y-%m-%dT%H:%M')}&to={now.strftime('%Y-%m-%dT%H:%M')}"
    big, deployment = marks["big_run"], marks["deployment"]
    lines = f"{big_run_logs:,}"
    return [
        ("dashboard", "GET", "/", None),
        ("dashboard, week", "GET", "/?window=week", None),
        ("runs", "GET", "/runs", None),
        ("runs, state Failed", "GET", "/runs?state=FAILED", None),
        ("runs, state Late", "GET", "/runs?state=LATE", None),
        ("runs, state Running", "GET", "/runs?state=RUNNING", None),
        ("runs, flow", "GET", f"/runs?flow={marks['flow']}", None),
        (f"runs, tag {BENCH_TAG}", "GET", f"/runs?tag={BENCH_TAG}", None),
        ("runs, date range", "GET", f"/runs?{run_range}", None),
        ("runs, name search", "GET", "/runs?name=run-4242", None),
        ("runs, Failed + flow + tag", "GET", f"/runs?state=FAILED&flow={marks['flow']}&tag={BENCH_TAG}", None),
        ("runs, name sort", "GET", "/runs?sort=name_asc", None),
        ("deployment page", "GET", f"/deployments/{deployment}", None),
        ("run page", "GET", f"/runs/flow-run/{marks['run']}", None),
        ("run page, task runs", "GET", f"/runs/flow-run/{marks['run']}?tab=task-runs", None),
        (f"log view, {lines} lines", "GET", f"/runs/flow-run/{big}", None),
        ("log view, WARNING", "GET", f"/runs/flow-run/{big}?level=WARNING", None),
        ("log search, 1 line", "GET", f"/runs/flow-run/{big}?q={marks['rare']}", None),
        ("log search, every line", "GET", f"/runs/flow-run/{big}?q=rows+written", None),
        ("log search, no line", "GET", f"/runs/flow-run/{big}?q=no+such+text", None),
        ("filter: flow-run ls", "POST", "/api/flow_runs/filter", client_filter()),
        (
            "filter: ls --state Running",
            "POST",
            "/api/flow_runs/filter",
            client_filter(flow_runs={"state": {"name": {"any_": ["Running"]}}}),
        ),
        (
            "filter: ls --state-type FAILED",
            "POST",
            "/api/flow_runs/filter",
            client_filter(flow_runs={"state": {"type": {"any_": ["FAILED"]}}}),
        ),
        (
            "filter: ls --flow-name",
            "POST",
            "/api/flow_runs/filter",
            client_filter(flows={"name": {"any_": [marks["flow_name"]]}}),
        ),
        (
            "filter: deployment, scheduled",
            "POST",
            "/api/flow_runs/filter",
            client_filter(
                deployments={"id": {"any_": [deployment]}},
                flow_runs={"state": {"type": {"any_": ["SCHEDULED"]}}},
                sort="EXPECTED_START_TIME_ASC",
            ),
        ),
        (
            "filter: tag",
            "POST",
            "/api/flow_runs/filter",
            client_filter(flow_runs={"tags": {"all_": [BENCH_TAG]}}, limit=200),
        ),
        ("filter: id", "POST", "/api/flow_runs/filter", client_filter(flow_runs={"id": {"any_": [marks["run"]]}})),
        (
            "filter: name like, offset",
            "POST",
            "/api/flow_runs/filter",
            client_filter(flow_runs={"name": {"like_": "run-77"}}, offset=100, limit=50),
        ),
        (
            "count: state Failed",
            "POST",
            "/api/flow_runs/count",
            {"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}},
        ),
        (
            "history: day, hourly",
            "POST",
            "/api/flow_runs/history",
            {
                "history_start": day_ago.isoformat(),
                "history_end": now.isoformat(),
                "history_interval_seconds": 3600,
            },
        ),
        (
            "history: week, 6-hourly, tag",
            "POST",
            "/api/flow_runs/history",
            {
                "history_start": week_ago.isoformat(),
                "history_end": now.isoformat(),
                "history_interval_seconds": 6 * 3600,
                "flow_runs": {"tags": {"all_": [BENCH_TAG]}},
            },
        ),
    ]


# --- the concurrency check ------------------------------------------------------------------------------------------


async def hot_runs(api: httpx.AsyncClient, flow_id: str, count: int) -> list[str]:
    runs = []
    for index in range(count):
        response = await api.post(
            "/flow_runs/",
            json={"flow_id": flow_id, "name": f"hot-run-{index}", "state": {"type": "RUNNING", "name": "Running"}},
        )
        response.raise_for_status()
        runs.append(response.json()["id"])
    return runs


async def state_storm(port: int, flow_id: str, calls: int, runs: int) -> dict[str, Any]:
    """`calls` concurrent set_state calls spread over `runs` new runs (each a forced Running state: every call writes
    a state row and updates its run's row); the answers by status and the time each took."""
    limits = httpx.Limits(max_connections=calls, max_keepalive_connections=calls)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api", timeout=120, limits=limits) as api:
        targets = await hot_runs(api, flow_id, runs)
        statuses: dict[str, int] = {}
        problems: list[str] = []
        times: list[float] = []
        gate = asyncio.Event()

        async def one(index: int) -> None:
            await gate.wait()
            started = time.perf_counter()
            body = {"state": {"type": "RUNNING", "name": "Running", "message": f"call {index}"}, "force": True}
            try:
                response = await api.post(f"/flow_runs/{targets[index % runs]}/set_state", json=body)
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
                return
            times.append((time.perf_counter() - started) * 1000)
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            if response.status_code >= 300:
                problems.append(response.text[:200])

        tasks = [asyncio.create_task(one(index)) for index in range(calls)]
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
    return {
        "statuses": statuses,
        "problems": problems[:5],
        "p50_ms": round(percentile(times, 0.5), 1) if times else None,
        "p95_ms": round(percentile(times, 0.95), 1) if times else None,
        "max_ms": round(max(times), 1) if times else None,
        "wall_s": round(wall, 2),
    }


async def deadlock_count(url: sa.URL) -> int:
    return int(await scalar(url, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"))


def concurrency_check(
    url: sa.URL, env: dict[str, str], home: Path, flow_id: str, isolation: str, args: argparse.Namespace
) -> dict[str, Any]:
    log = home / "server.log"
    port = free_port()
    process = start_server({**env, "BATON_API_DATABASE_ISOLATION_LEVEL": isolation}, port, home)
    try:
        before = asyncio.run(deadlock_count(url))
        storm = asyncio.run(state_storm(port, flow_id, args.calls, args.hot_runs))
        # pg_stat_database is updated when a backend reports, at most every half second.
        time.sleep(1.5)
        deadlocks = asyncio.run(deadlock_count(url)) - before
    finally:
        stop_server(process)
    text = log.read_text(errors="replace")
    failures = sum(count for status, count in storm["statuses"].items() if not status.startswith("2"))
    return {
        "isolation": isolation,
        **storm,
        "failed_calls": failures,
        "deadlocks": deadlocks,
        "serialization_failures_answered": sum("could not serialize" in problem for problem in storm["problems"]),
        "retried_transactions": text.count(RETRY_LOG_MARK),
    }


# --- main -----------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help=f"a scratch PostgreSQL database (default {DEFAULT_URL})")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the issue's size to seed")
    parser.add_argument("--days", type=int, default=90, help="the past runs are spread over this many days")
    parser.add_argument("--big-run-logs", type=int, default=1_000_000, help="log lines of the big run")
    parser.add_argument("--requests", type=int, default=20, help="measured requests per page or call")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured requests first")
    parser.add_argument("--calls", type=int, default=200, help="concurrent set_state calls")
    parser.add_argument("--hot-runs", type=int, default=5, help="the runs they share")
    parser.add_argument("--only", default="", help="measure only requests whose label holds this text")
    parser.add_argument("--skip-concurrency", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="skip seeding when the database is already seeded")
    parser.add_argument("--keep", action="store_true", help="leave the database when done")
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    url = sa.make_url(args.database_url or DEFAULT_URL)
    home = Path(tempfile.mkdtemp(prefix="baton-big-bench-"))
    env = baton_env(url, home)
    process = None
    timings: list[tuple[str, float, int]] = []
    results: list[dict[str, Any]] = []
    storms: list[dict[str, Any]] = []
    try:
        if args.reuse and asyncio.run(is_seeded(url)):
            baton(env, "server", "database", "upgrade", "-y")
            print(f"reusing the seeded database {url.database}")
        else:
            asyncio.run(
                execute_autocommit(
                    admin_url(url),
                    f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)',
                    f'CREATE DATABASE "{url.database}"',
                )
            )
            baton(env, "server", "database", "upgrade", "-y")
            started = time.perf_counter()
            timings = seed(url, args)
            print(f"seeded {url.database} (scale {args.scale}) in {time.perf_counter() - started:.0f} s:")
            for label, seconds, rows in timings:
                print(f"  {label:18s} {rows:>12,} rows {seconds:8.1f} s")
        print(f"database size: {asyncio.run(database_size(url))}")
        marks = asyncio.run(landmarks(url, args.big_run_logs))

        port = free_port()
        process = start_server(env, port, home)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for label, method, path, body in requests_to_measure(marks, args.big_run_logs):
                if args.only and args.only not in label:
                    continue
                measured = measure_page(client, path, args.requests, args.warmup, method=method, body=body)
                results.append({"request": label, **measured})
                print(f"  {label:32s} p95 {measured['ttfb_p95_ms']:8.1f} ms", flush=True)
        stop_server(process)
        process = None
        if not args.skip_concurrency:
            for isolation in ISOLATION_LEVELS:
                storms.append(concurrency_check(url, env, home, marks["flow"], isolation, args))
    finally:
        if process is not None:
            stop_server(process)
        if args.database_url is None and not args.keep:
            asyncio.run(execute_autocommit(admin_url(url), f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        shutil.rmtree(home, ignore_errors=True)

    print(
        f"\n{args.requests} requests each, one at a time; target: TTFB p95 under {TARGET_P95_MS:.0f} ms "
        f"(log search {TARGET_LOG_SEARCH_P95_MS:.0f} ms)"
    )
    print(f"{'request':34s} {'status':>7s} {'KiB':>7s} {'p50':>8s} {'p95':>8s} {'max':>8s}")
    for row in results:
        target = TARGET_LOG_SEARCH_P95_MS if row["request"].startswith("log search") else TARGET_P95_MS
        over = "  over target" if row["ttfb_p95_ms"] > target else ""
        print(
            f"{row['request']:34s} {','.join(map(str, row['status'])):>7s} {row['bytes'] / 1024:7.1f} "
            f"{row['ttfb_p50_ms']:8.1f} {row['ttfb_p95_ms']:8.1f} {row['ttfb_max_ms']:8.1f}{over}"
        )
    for storm in storms:
        print(
            f"\n{args.calls} concurrent set_state on {args.hot_runs} runs at {storm['isolation']}: "
            f"answers {storm['statuses']}, deadlocks {storm['deadlocks']}, retried transactions "
            f"{storm['retried_transactions']}, p50 {storm['p50_ms']} ms, p95 {storm['p95_ms']} ms, "
            f"max {storm['max_ms']} ms, wall {storm['wall_s']} s"
        )
        for problem in storm["problems"]:
            print(f"  {problem}")
    report = {
        "label": args.label,
        "scale": args.scale if timings else None,  # None: measured on a database seeded before
        "requests": results,
        "concurrency": storms,
        "over_target": [
            row["request"]
            for row in results
            if row["ttfb_p95_ms"]
            > (TARGET_LOG_SEARCH_P95_MS if row["request"].startswith("log search") else TARGET_P95_MS)
        ],
        "seed_seconds": {label: round(seconds, 1) for label, seconds, _ in timings},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()

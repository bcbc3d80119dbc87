"""Web UI page times on a large PostgreSQL database: time to first byte and full load of the dashboard, the runs
page (unfiltered, by state, by tag) and the page of a run with 1,000 task runs.

Seeds the database in SQL (INSERT ... SELECT over generate_series, a few seconds per 100,000 rows): `--runs` flow
runs of `--flows` flows, expected to start over the last `--days` days (newest every few seconds), with realistic
states (mostly Completed, some Failed, Crashed, Cancelled, Late and Running, plus runs scheduled for the next day),
tags (`nightly` or `adhoc` on every run, `prod` on one in seven) and three state rows each; `--task-runs` task runs
and `--big-run-logs` log lines on one run; and `--logs` log lines in all, the rest spread over the other runs. Then it
starts `baton server start` on the database (which is first migrated with `baton server database upgrade`) and
requests every page `--requests` times, one at a time, after `--warmup` unmeasured requests each.

TTFB is the time from sending the request to the response headers; Tornado sends a rendered page in one piece, so
this is the server's time to answer. Full load adds reading the body.

    .venv/bin/python benchmarks/ui_pages.py                       # creates baton_bench_ui, seeds it, measures
    .venv/bin/python benchmarks/ui_pages.py --reuse --keep         # measure again on the seeded database
    .venv/bin/python benchmarks/ui_pages.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/scratch

Without `--database-url` the database `baton_bench_ui` on 127.0.0.1 is dropped and created (with `--reuse`, kept if
it already holds the seeded rows). A given database is emptied with `baton server database reset -y` before seeding
unless `--reuse` finds it seeded. `--keep` leaves the database for another run. Prints a table and, on its last
line, one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

BATON = str(Path(sys.executable).with_name("baton"))
DEFAULT_DATABASE = "baton_bench_ui"
DEFAULT_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DEFAULT_DATABASE}"
TARGET_TTFB_P95_MS = 150.0
BENCH_TAG = "prod"
START_TIMEOUT = 60.0

# --- seeding --------------------------------------------------------------------------------------------------------

# Per run i (1 = newest): a state from a fixed spread of r = i * 7919 mod 1000, so counts are the same every time.
SEED_RUNS = """
CREATE TEMP TABLE seed_run AS
SELECT i,
       gen_random_uuid() AS id,
       gen_random_uuid() AS state_id,
       now() - make_interval(secs => :days * 86400.0 * i / :runs) AS expected,
       (i::bigint * 7919) % 1000 AS r
FROM generate_series(1, :runs) AS i;
ALTER TABLE seed_run ADD PRIMARY KEY (i);
CREATE TEMP TABLE seed_state AS
SELECT i, CASE
         WHEN i <= :runs / 2000 AND r < 500 THEN 'RUNNING'
         WHEN r < 850 THEN 'COMPLETED'
         WHEN r < 900 THEN 'FAILED'
         WHEN r < 910 THEN 'CRASHED'
         WHEN r < 930 THEN 'CANCELLED'
         WHEN r < 935 THEN 'LATE'
         ELSE 'COMPLETED' END AS kind
FROM seed_run;
ALTER TABLE seed_state ADD PRIMARY KEY (i);
CREATE TEMP TABLE seed_big AS
SELECT id FROM seed_run JOIN seed_state USING (i) WHERE kind = 'COMPLETED' AND i > 20 ORDER BY i LIMIT 1;
"""

INSERT_FLOWS = """
INSERT INTO flow (id, created, updated, name, tags, labels)
SELECT gen_random_uuid(), now(), now(), 'bench-flow-' || lpad(n::text, 2, '0'), '[]'::jsonb, '{}'::jsonb
FROM generate_series(0, :flows - 1) AS n
"""

INSERT_FLOW_RUNS = """
WITH flows AS (SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM flow WHERE name LIKE 'bench-flow-%')
INSERT INTO flow_run (
    id, created, updated, name, flow_id, parameters, context, empirical_policy, tags, labels, job_variables,
    auto_scheduled, run_count, total_run_time, state_id, state_type, state_name, state_timestamp,
    expected_start_time, start_time, end_time)
SELECT s.id, s.expected - interval '1 minute', s.expected, 'bench-run-' || s.i, flows.id,
       jsonb_build_object('batch', s.i), '{}'::jsonb, '{"retries": 0, "retry_delay": 0}'::jsonb,
       CASE WHEN s.i % 7 = 0 THEN jsonb_build_array(CASE WHEN s.i % 3 = 0 THEN 'nightly' ELSE 'adhoc' END, 'prod')
            ELSE jsonb_build_array(CASE WHEN s.i % 3 = 0 THEN 'nightly' ELSE 'adhoc' END) END,
       jsonb_build_object('prefect.flow.id', flows.id::text), '{}'::jsonb,
       false, CASE WHEN k.kind = 'LATE' THEN 0 ELSE 1 END,
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
FROM seed_run s JOIN seed_state k USING (i) JOIN flows ON flows.n = s.i % :flows
"""

# Runs scheduled for the next day, one in a hundred of the past ones' number.
INSERT_SCHEDULED_RUNS = """
WITH flows AS (SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM flow WHERE name LIKE 'bench-flow-%'),
     planned AS (SELECT i, gen_random_uuid() AS id, gen_random_uuid() AS state_id,
                        now() + make_interval(secs => 86400.0 * i / (:runs / 100)) AS expected
                 FROM generate_series(1, :runs / 100) AS i)
INSERT INTO flow_run (
    id, created, updated, name, flow_id, parameters, context, empirical_policy, tags, labels, job_variables,
    auto_scheduled, run_count, total_run_time, state_id, state_type, state_name, state_timestamp,
    expected_start_time, next_scheduled_start_time)
SELECT p.id, now(), now(), 'bench-scheduled-' || p.i, flows.id, '{}'::jsonb, '{}'::jsonb, '{}'::jsonb,
       '["nightly"]'::jsonb, '{}'::jsonb, '{}'::jsonb, true, 0, 0, p.state_id, 'SCHEDULED', 'Scheduled', now(),
       p.expected, p.expected
FROM planned p JOIN flows ON flows.n = p.i % :flows
"""

# Three states per run: Scheduled, Running (unless still late) and the current one (whose id is the run's state_id).
INSERT_FLOW_RUN_STATES = """
INSERT INTO flow_run_state (id, created, updated, flow_run_id, type, name, timestamp, message, state_details)
SELECT gen_random_uuid(), f.created, f.created, f.id, 'SCHEDULED', 'Scheduled', f.created, NULL,
       jsonb_build_object('flow_run_id', f.id::text, 'scheduled_time', f.expected_start_time)
FROM flow_run f WHERE f.state_name <> 'Scheduled'
UNION ALL
SELECT gen_random_uuid(), f.start_time, f.start_time, f.id, 'RUNNING', 'Running', f.start_time, NULL,
       jsonb_build_object('flow_run_id', f.id::text)
FROM flow_run f WHERE f.start_time IS NOT NULL AND f.state_type <> 'RUNNING'
UNION ALL
SELECT f.state_id, f.state_timestamp, f.state_timestamp, f.id, f.state_type, f.state_name, f.state_timestamp,
       CASE WHEN f.state_type = 'FAILED' THEN 'Flow run encountered an exception: ValueError' END,
       jsonb_build_object('flow_run_id', f.id::text)
FROM flow_run f
"""

INSERT_TASK_RUNS = """
WITH big AS (SELECT id, start_time FROM flow_run WHERE id = (SELECT id FROM seed_big)),
     tasks AS (SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS state_id,
                      big.start_time + make_interval(secs => n * 0.5) AS started, big.id AS flow_run_id
               FROM big, generate_series(1, :task_runs) AS n)
INSERT INTO task_run (
    id, created, updated, name, flow_run_id, task_key, dynamic_key, flow_run_run_count, empirical_policy,
    task_inputs, tags, labels, run_count, total_run_time, state_id, state_type, state_name, state_timestamp,
    expected_start_time, start_time, end_time)
SELECT id, started, started, 'process_item-' || n, flow_run_id, 'process_item-4a9f1c2e', n::text, 1,
       '{"max_retries": 0, "retry_delay_seconds": 0}'::jsonb, '{"item": []}'::jsonb, '[]'::jsonb, '{}'::jsonb,
       1, 0.4, state_id, 'COMPLETED', 'Completed', started + interval '0.4 seconds', started, started,
       started + interval '0.4 seconds'
FROM tasks
"""

INSERT_TASK_RUN_STATES = """
INSERT INTO task_run_state (id, created, updated, task_run_id, type, name, timestamp, state_details)
SELECT state_id, state_timestamp, state_timestamp, id, state_type, state_name, state_timestamp,
       jsonb_build_object('task_run_id', id::text, 'flow_run_id', flow_run_id::text)
FROM task_run WHERE flow_run_id = (SELECT id FROM seed_big)
"""

# The big run's lines, most of them from its task runs; then the rest spread evenly over the other past runs.
INSERT_BIG_RUN_LOGS = """
WITH big AS (SELECT id, start_time FROM flow_run WHERE id = (SELECT id FROM seed_big)),
     tasks AS (SELECT id, row_number() OVER (ORDER BY start_time, id) AS n
               FROM task_run WHERE flow_run_id = (SELECT id FROM big))
INSERT INTO log (id, created, updated, name, level, flow_run_id, task_run_id, message, timestamp)
SELECT gen_random_uuid(), ts, ts, CASE WHEN tasks.id IS NULL THEN 'prefect.flow_runs' ELSE 'prefect.task_runs' END,
       CASE WHEN g % 50 = 0 THEN 30 ELSE 20 END, big.id, tasks.id,
       'processed item ' || g || ' of the batch: 128 rows written, checksum ' || md5(g::text), ts
FROM big, generate_series(1, :lines) AS g
CROSS JOIN LATERAL (SELECT big.start_time + make_interval(secs => g * 0.05) AS ts) AS t
LEFT JOIN tasks ON tasks.n = 1 + (g * 7) % 1100
"""

INSERT_SPREAD_LOGS = """
INSERT INTO log (id, created, updated, name, level, flow_run_id, task_run_id, message, timestamp)
SELECT gen_random_uuid(), ts, ts, 'prefect.flow_runs', CASE WHEN g % 20 = 0 THEN 40 ELSE 20 END, s.id, NULL,
       'step ' || g || ' finished in ' || (g % 97) || ' ms', ts
FROM generate_series(1, :lines) AS g
JOIN seed_run s ON s.i = 1 + g % (:runs - 1)
CROSS JOIN LATERAL (SELECT s.expected + make_interval(secs => 1 + g % 600) AS ts) AS t
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin_url(url: sa.URL) -> sa.URL:
    return url.set(database="postgres")


def render(sql: str, values: dict[str, Any]) -> str:
    """`sql` with each :name replaced by its value as a literal (numbers, or a UUID): CREATE TABLE AS takes no
    bound parameters."""
    for name in sorted(values, key=len, reverse=True):
        value = values[name]
        literal = str(value) if isinstance(value, int | float) else f"'{uuid.UUID(str(value))}'::uuid"
        sql = sql.replace(f":{name}", literal)
    return sql


async def run_sql(
    url: sa.URL, statements: list[tuple[str, str, dict[str, Any]]], *, unindexed: tuple[str, ...] = ()
) -> list[tuple[str, float, int]]:
    """Run each (label, SQL, values) in one session and transaction; (label, seconds, rows) for each. The secondary
    indexes of the `unindexed` tables are dropped first and built again at the end (much faster than keeping them
    up to date row by row)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    timings = []
    try:
        async with engine.begin() as connection:
            found = (
                await connection.exec_driver_sql(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
                    f"AND i.tablename IN ({', '.join(repr(name) for name in unindexed) or 'NULL'}) AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.indexname)))"
                )
            ).all()
            indexes = [(row._mapping["indexname"], row._mapping["indexdef"]) for row in found]
            for name, _ in indexes:
                await connection.exec_driver_sql(f'DROP INDEX "{name}"')
            for label, sql, values in statements:
                started = time.perf_counter()
                rows = 0
                for statement in (part for part in render(sql, values).split(";\n") if part.strip()):
                    result = await connection.exec_driver_sql(statement)
                    rows += max(result.rowcount, 0)
                timings.append((label, time.perf_counter() - started, rows))
            started = time.perf_counter()
            await connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
            for _, definition in indexes:
                await connection.exec_driver_sql(definition)
            timings.append((f"{len(indexes)} indexes", time.perf_counter() - started, 0))
    finally:
        await engine.dispose()
    return timings


async def scalar(url: sa.URL, sql: str, **parameters: Any) -> Any:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            return (await connection.execute(sa.text(sql), parameters)).scalar()
    finally:
        await engine.dispose()


async def execute_autocommit(url: sa.URL, *statements: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


def baton_env(url: sa.URL, home: Path) -> dict[str, str]:
    env = {**os.environ, "BATON_HOME": str(home), "BATON_LOGGING_LEVEL": "WARNING"}
    for name in ("BATON_REDIS_URL", "BATON_REDIS_NAMESPACE"):
        env.pop(name, None)
    env["BATON_API_DATABASE_CONNECTION_URL"] = url.render_as_string(hide_password=False)
    return env


async def is_seeded(url: sa.URL, args: argparse.Namespace) -> bool:
    try:
        runs = await scalar(url, "SELECT count(*) FROM flow_run WHERE name LIKE 'bench-run-%'")
        logs = await scalar(url, "SELECT count(*) FROM log")
    except Exception:  # no such database or no schema yet: not seeded
        return False
    return bool(runs == args.runs and logs == args.logs)


def prepare_database(url: sa.URL, args: argparse.Namespace, env: dict[str, str]) -> None:
    """Create (the default database, or a given one that does not exist) or empty (a given one) the database, and
    migrate it."""
    name = url.database
    exists = asyncio.run(scalar(admin_url(url), "SELECT count(*) FROM pg_database WHERE datname = :name", name=name))
    if args.database_url is None or not exists:
        asyncio.run(
            execute_autocommit(
                admin_url(url), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
            )
        )
    else:
        baton(env, "server", "database", "reset", "-y")
    baton(env, "server", "database", "upgrade", "-y")


def baton(env: dict[str, str], *args: str) -> None:
    completed = subprocess.run([BATON, *args], env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"baton {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")


def seed(url: sa.URL, args: argparse.Namespace) -> dict[str, Any]:
    """Insert the rows; returns the big run's id and the timings."""
    base = {"runs": args.runs, "days": args.days, "flows": args.flows}
    timings = asyncio.run(
        run_sql(
            url,
            [
                ("seed tables", SEED_RUNS, base),
                ("flows", INSERT_FLOWS, base),
                ("flow runs", INSERT_FLOW_RUNS, base),
                ("scheduled runs", INSERT_SCHEDULED_RUNS, base),
                ("flow-run states", INSERT_FLOW_RUN_STATES, {}),
                ("spread logs", INSERT_SPREAD_LOGS, {**base, "lines": args.logs - args.big_run_logs}),
                ("task runs", INSERT_TASK_RUNS, {"task_runs": args.task_runs}),
                ("task-run states", INSERT_TASK_RUN_STATES, {}),
                ("big run logs", INSERT_BIG_RUN_LOGS, {"lines": args.big_run_logs}),
            ],
            unindexed=("flow_run", "flow_run_state", "log"),
        )
    )
    started = time.perf_counter()
    asyncio.run(execute_autocommit(url, "VACUUM ANALYZE"))
    timings.append(("vacuum analyze", time.perf_counter() - started, 0))
    return {"big_run": asyncio.run(find_big_run(url)), "timings": timings}


async def find_flow_of(url: sa.URL, run_id: str) -> str:
    return str(await scalar(url, f"SELECT flow_id FROM flow_run WHERE id = '{run_id}'"))


async def find_big_run(url: sa.URL) -> str:
    return str(
        await scalar(url, "SELECT flow_run_id FROM task_run GROUP BY flow_run_id ORDER BY count(*) DESC LIMIT 1")
    )


# --- the server and the requests ------------------------------------------------------------------------------------


def start_server(env: dict[str, str], port: int, home: Path) -> subprocess.Popen[bytes]:
    with open(home / "server.log", "wb") as log:
        process = subprocess.Popen(
            [BATON, "server", "start", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.perf_counter() + START_TIMEOUT
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{(home / 'server.log').read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server was not healthy in time")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure_page(
    client: httpx.Client, path: str, requests: int, warmup: int, *, method: str = "GET", body: Any = None
) -> dict[str, Any]:
    """TTFB and full-load percentiles of `requests` requests one at a time, after `warmup` unmeasured ones."""
    ttfb: list[float] = []
    full: list[float] = []
    statuses: set[int] = set()
    size = 0
    for index in range(warmup + requests):
        started = time.perf_counter()
        with client.stream(method, path, json=body) as response:
            first_byte = time.perf_counter()
            content = response.read()
            done = time.perf_counter()
        if index >= warmup:
            ttfb.append((first_byte - started) * 1000)
            full.append((done - started) * 1000)
            statuses.add(response.status_code)
            size = len(content)
    return {
        "path": path,
        "status": sorted(statuses),
        "bytes": size,
        "ttfb_p50_ms": round(percentile(ttfb, 0.5), 1),
        "ttfb_p95_ms": round(percentile(ttfb, 0.95), 1),
        "ttfb_max_ms": round(max(ttfb), 1),
        "full_p50_ms": round(percentile(full, 0.5), 1),
        "full_p95_ms": round(percentile(full, 0.95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help=f"a scratch PostgreSQL database (default {DEFAULT_URL})")
    parser.add_argument("--runs", type=int, default=100_000, help="past flow runs (plus 1%% scheduled ones)")
    parser.add_argument("--flows", type=int, default=20)
    parser.add_argument("--days", type=int, default=30, help="the past runs are spread over this many days")
    parser.add_argument("--task-runs", type=int, default=1_000, help="task runs of the big run")
    parser.add_argument("--logs", type=int, default=1_000_000, help="log lines in all")
    parser.add_argument("--big-run-logs", type=int, default=10_000, help="log lines of the big run")
    parser.add_argument("--requests", type=int, default=40, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per page first")
    parser.add_argument("--reuse", action="store_true", help="skip seeding when the database is already seeded")
    parser.add_argument("--keep", action="store_true", help="leave the database when done")
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    url = sa.make_url(args.database_url or DEFAULT_URL)
    home = Path(tempfile.mkdtemp(prefix="baton-ui-bench-"))
    env = baton_env(url, home)
    process = None
    seeding: dict[str, Any] = {}
    try:
        if args.reuse and asyncio.run(is_seeded(url, args)):
            baton(env, "server", "database", "upgrade", "-y")
            asyncio.run(execute_autocommit(url, "ANALYZE"))
            big_run = asyncio.run(find_big_run(url))
            print(f"reusing the seeded database {url.database}")
        else:
            prepare_database(url, args, env)
            started = time.perf_counter()
            seeding = seed(url, args)
            big_run = seeding["big_run"]
            print(f"seeded {url.database} in {time.perf_counter() - started:.1f} s:")
            for label, seconds, rows in seeding["timings"]:
                print(f"  {label:18s} {rows:>10,} rows {seconds:7.1f} s")

        port = free_port()
        process = start_server(env, port, home)
        flow = asyncio.run(find_flow_of(url, big_run))
        pages = [
            ("dashboard", "/"),
            ("dashboard, week", "/?window=week"),
            ("runs", "/runs"),
            ("runs, failed", "/runs?state=FAILED"),
            (f"runs, tag {BENCH_TAG}", f"/runs?tag={BENCH_TAG}"),
            (f"run, {args.task_runs:,} task runs", f"/runs/flow-run/{big_run}"),
            ("flows", "/flows"),
            ("flow, day", f"/flows/{flow}"),
            ("flow, week", f"/flows/{flow}?window=week"),
            ("task runs", "/task-runs"),
            ("task runs, failed", "/task-runs?state=FAILED"),
            ("search", "/search?q=flow"),
        ]
        # The API's newest-first task-run lists (the Prefect client's `task-run ls` asks for the first).
        api_calls = [
            (f"API task runs, {sort.split('_')[0].lower()} desc", "/api/task_runs/filter", {"sort": sort, "limit": 200})
            for sort in ("EXPECTED_START_TIME_DESC", "END_TIME_DESC")
        ]
        results = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for label, path in pages:
                results.append({"page": label, **measure_page(client, path, args.requests, args.warmup)})
            for label, path, body in api_calls:
                results.append(
                    {"page": label, **measure_page(client, path, args.requests, args.warmup, method="POST", body=body)}
                )
    finally:
        if process is not None:
            stop_server(process)
        if args.database_url is None and not args.keep:
            asyncio.run(execute_autocommit(admin_url(url), f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        shutil.rmtree(home, ignore_errors=True)

    print(f"\n{args.requests} requests per page, one at a time; target: TTFB p95 under {TARGET_TTFB_P95_MS:.0f} ms")
    print(
        f"{'page':24s} {'status':>8s} {'KiB':>7s} {'TTFB p50':>9s} {'TTFB p95':>9s} {'full p50':>9s} {'full p95':>9s}"
    )
    for row in results:
        over = "  over target" if row["ttfb_p95_ms"] > TARGET_TTFB_P95_MS else ""
        print(
            f"{row['page']:24s} {','.join(map(str, row['status'])):>8s} {row['bytes'] / 1024:7.1f} "
            f"{row['ttfb_p50_ms']:9.1f} {row['ttfb_p95_ms']:9.1f} {row['full_p50_ms']:9.1f} {row['full_p95_ms']:9.1f}"
            f"{over}"
        )
    report = {
        "label": args.label,
        "runs": args.runs,
        "logs": args.logs,
        "task_runs": args.task_runs,
        "requests": args.requests,
        "target_ttfb_p95_ms": TARGET_TTFB_P95_MS,
        "pages": results,
        "over_target": [row["page"] for row in results if row["ttfb_p95_ms"] > TARGET_TTFB_P95_MS],
        "seed_seconds": {label: round(seconds, 1) for label, seconds, _ in seeding.get("timings", [])},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()

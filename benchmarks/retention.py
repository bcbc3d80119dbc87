"""Benchmark retention: one prune pass over a database full of expired rows, and what it costs the API meanwhile.

Seeds `--rows` expired rows (default 1,000,000 on PostgreSQL, 200,000 on SQLite) across every kind retention deletes,
in SQL (INSERT ... SELECT over a numbers table), all dated 2020-01-01: finished flow runs with two states, two task
runs (one state each) and two log lines each (36% of the rows), log lines of no run (20%), events (20%), artifacts of
no run (4%), sent notification deliveries (8%), automation firings with one finished action run each (8%) and audit
entries (4%). Then it runs the API life cycle workload of `api_lifecycle.py` (create a flow run, Pending, Running,
10 task runs, 10 log lines, Completed, read it back; `--concurrency` clients, rounds of `--runs-per-round` runs)
against `baton server start --no-ui` on the database, first without a pass, then during one pass with the default
retention settings, until the pass has deleted every expired row. Where the pass runs (`--pass-in`):

* `server` (the default on SQLite): the server's own beat starts it, on the embedded actors, at the turn of a
  `--retention-period` (the server is started just after a turn, seeded, and measured without a pass until the next);
* `process` (the default on PostgreSQL): another process runs it with no cap on batches (as `baton server services`
  or `baton server database prune` would), the server's own retention being off (every setting 0).

It prints the time of the pass, the life cycle's p50/p95/p99 over every call without and during the pass and their
ratio (target: p95 at most 2x), and the storage: on PostgreSQL `n_dead_tup` of the pruned tables right after the
pass and once vacuumed (by autovacuum within `--vacuum-wait` seconds; on a server with autovacuum off, by a timed
plain VACUUM of each table, which is what autovacuum runs), on SQLite the file's size and free pages after seeding,
after the pass, and then, with the server stopped, after seeding and pruning the same rows twice more (a file that
reuses its free pages is the same size after the third seeding as after the second: it stopped growing).

    .venv/bin/python benchmarks/retention.py --database postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/retention.py --database sqlite

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import api_lifecycle as lifecycle  # noqa: E402

OLD = "2020-01-01 00:00:00"
# Shares of the seeded rows, per kind (a finished flow run is 9 rows: itself, 2 states, 2 task runs, 2 task-run
# states and 2 log lines).
SHARES = {
    "run_rows": 0.36,
    "logs": 0.20,
    "events": 0.20,
    "artifacts": 0.04,
    "deliveries": 0.08,
    "firing_rows": 0.08,
    "audit": 0.04,
}
ROWS_PER_RUN = 9
PRUNED_TABLES = (
    "flow_run",
    "flow_run_state",
    "task_run",
    "task_run_state",
    "log",
    "events",
    "artifact",
    "notification_delivery",
    "automation_firing",
    "automation_action_run",
    "audit_entry",
)
RETENTION_SETTINGS = (
    "FLOW_RUNS",
    "LOGS",
    "ARTIFACTS",
    "EVENTS",
    "NOTIFICATIONS",
    "AUTOMATIONS",
    "AUDIT",
)


class Dialect:
    """The few SQL spellings that differ between the two databases, for the seeding statements."""

    def __init__(self, postgresql: bool) -> None:
        self.postgresql = postgresql
        self.uuid = "gen_random_uuid()" if postgresql else "lower(hex(randomblob(16)))"
        self.old = f"TIMESTAMPTZ '{OLD}+00'" if postgresql else f"'{OLD}.000000'"
        self.obj = "'{}'::jsonb" if postgresql else "'{}'"
        self.arr = "'[]'::jsonb" if postgresql else "'[]'"
        self.false = "false" if postgresql else "0"
        self.text = "::text" if postgresql else ""

    def numbers(self, count: int) -> str:
        if self.postgresql:
            return f"CREATE TEMP TABLE seed_n AS SELECT i FROM generate_series(1, {count}) AS i"
        return (
            "CREATE TEMP TABLE seed_n AS WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
            f"WHERE i < {count}) SELECT i FROM s"
        )


def seed_statements(d: Dialect, rows: int, ids: dict[str, str]) -> list[str]:
    """The statements that insert `rows` expired rows, given the ids of a flow, a notification policy and an
    automation."""
    count = {name: int(rows * share) for name, share in SHARES.items()}
    runs = count["run_rows"] // ROWS_PER_RUN
    firings = count["firing_rows"] // 2
    base = f"{d.uuid}, {d.old}, {d.old}"
    state = f"{d.old}, NULL, {d.obj}"
    flow, policy, automation = (f"'{ids[name]}'" for name in ("flow", "policy", "automation"))
    return [
        "DROP TABLE IF EXISTS seed_n",
        "DROP TABLE IF EXISTS seed_run",
        "DROP TABLE IF EXISTS seed_task",
        "DROP TABLE IF EXISTS seed_firing",
        d.numbers(max(runs * 2, *count.values(), 1)),
        f"CREATE TEMP TABLE seed_run AS SELECT i, {d.uuid} AS id FROM seed_n WHERE i <= {runs}",
        f"CREATE TEMP TABLE seed_task AS SELECT n.i, {d.uuid} AS id, r.id AS run_id FROM seed_n n "
        f"JOIN seed_run r ON r.i = (n.i + 1) / 2 WHERE n.i <= {runs * 2}",
        "INSERT INTO flow_run (id, created, updated, name, flow_id, parameters, context, empirical_policy, tags, "
        "auto_scheduled, run_count, total_run_time, state_type, state_name, start_time, end_time) "
        f"SELECT id, {d.old}, {d.old}, 'old-' || i, {flow}, {d.obj}, {d.obj}, {d.obj}, {d.arr}, {d.false}, 1, 1.0, "
        f"'COMPLETED', 'Completed', {d.old}, {d.old} FROM seed_run",
        "INSERT INTO flow_run_state (id, created, updated, flow_run_id, type, name, timestamp, message, "
        f"state_details) SELECT {base}, r.id, k.type, k.name, {state} FROM seed_run r "
        "CROSS JOIN (SELECT 'RUNNING' AS type, 'Running' AS name UNION ALL SELECT 'COMPLETED', 'Completed') k",
        "INSERT INTO task_run (id, created, updated, name, flow_run_id, task_key, dynamic_key, flow_run_run_count, "
        "empirical_policy, task_inputs, tags, run_count, total_run_time, state_type, state_name, end_time) "
        f"SELECT id, {d.old}, {d.old}, 'task', run_id, 'task-' || i, '0', 1, {d.obj}, {d.obj}, {d.arr}, 1, 1.0, "
        f"'COMPLETED', 'Completed', {d.old} FROM seed_task",
        "INSERT INTO task_run_state (id, created, updated, task_run_id, type, name, timestamp, message, "
        f"state_details) SELECT {base}, id, 'COMPLETED', 'Completed', {state} FROM seed_task",
        "INSERT INTO log (id, created, updated, name, level, flow_run_id, task_run_id, message, timestamp) "
        f"SELECT {base}, 'bench', 20, run_id, id, 'an old line', {d.old} FROM seed_task",
        "INSERT INTO log (id, created, updated, name, level, message, timestamp) "
        f"SELECT {base}, 'bench', 20, 'an old line of no run', {d.old} FROM seed_n WHERE i <= {count['logs']}",
        "INSERT INTO events (id, created, updated, occurred, event, resource_id, resource, related_resource_ids, "
        f"related, payload, received, recorded) SELECT {base}, {d.old}, 'bench.old', 'bench.resource.' || i, "
        f"{d.obj}, {d.arr}, {d.arr}, {d.obj}, {d.old}, {d.old} FROM seed_n WHERE i <= {count['events']}",
        "INSERT INTO artifact (id, created, updated, key, type, data) "
        f"SELECT {base}, NULL, 'markdown', '\"old\"' FROM seed_n WHERE i <= {count['artifacts']}",
        "INSERT INTO notification_delivery (id, created, updated, policy_id, flow_run_state_id, status, attempts) "
        f"SELECT {base}, {policy}, {d.uuid}, 'SENT', 1 FROM seed_n WHERE i <= {count['deliveries']}",
        f"CREATE TEMP TABLE seed_firing AS SELECT i, {d.uuid} AS id FROM seed_n WHERE i <= {firings}",
        "INSERT INTO automation_firing (id, created, updated, automation_id, trigger_id, firing_key, trigger_state, "
        f"occurred, triggering_labels) SELECT id, {d.old}, {d.old}, {automation}, id, 'bench-' || id{d.text}, "
        f"'Triggered', {d.old}, {d.obj} FROM seed_firing",
        "INSERT INTO automation_action_run (id, created, updated, firing_id, automation_id, phase, action_index, "
        f"action, status, attempts) SELECT {base}, id, {automation}, 'actions', 0, {d.obj}, 'SUCCEEDED', 1 "
        "FROM seed_firing",
        "INSERT INTO audit_entry (id, occurred, actor_kind, actor_name, action, outcome, detail) "
        f"SELECT {d.uuid}, {d.old}, 'user', 'bench', 'variable.create', 'success', {d.obj} FROM seed_n "
        f"WHERE i <= {count['audit']}",
    ]


async def _parents(connection: Any) -> dict[str, str]:
    """A flow, a notification policy (with its block) and an automation for the seeded rows to belong to."""
    import sqlalchemy as sa

    from baton.server.database import tables as t

    ids = {name: uuid.uuid4() for name in ("flow", "block_type", "block_schema", "block_document", "policy")}
    ids["automation"] = uuid.uuid4()
    suffix = uuid.uuid4().hex[:8]
    await connection.execute(sa.insert(t.flow).values(id=ids["flow"], name=f"bench-retention-{suffix}"))
    await connection.execute(
        sa.insert(t.block_type).values(id=ids["block_type"], name=f"bench-{suffix}", slug=f"bench-{suffix}")
    )
    await connection.execute(
        sa.insert(t.block_schema).values(
            id=ids["block_schema"], checksum=f"sha256:{suffix}", block_type_id=ids["block_type"]
        )
    )
    await connection.execute(
        sa.insert(t.block_document).values(
            id=ids["block_document"],
            name=f"bench-{suffix}",
            data="{}",
            block_type_id=ids["block_type"],
            block_schema_id=ids["block_schema"],
        )
    )
    await connection.execute(
        sa.insert(t.notification_policy).values(id=ids["policy"], block_document_id=ids["block_document"])
    )
    await connection.execute(
        sa.insert(t.automation).values(id=ids["automation"], name=f"bench-{suffix}", trigger={}, enabled=False)
    )
    postgresql = connection.dialect.name == "postgresql"
    return {name: str(value) if postgresql else value.hex for name, value in ids.items()}


async def seed(url: str, rows: int) -> float:
    """Insert `rows` expired rows; the seconds it took."""
    from baton.server.database.engine import Database

    database = Database(url)
    await database.open()
    started = time.perf_counter()
    try:
        async with database.write() as connection:
            ids = await _parents(connection)
            dialect = Dialect(connection.dialect.name == "postgresql")
            for statement in seed_statements(dialect, rows, ids):
                await connection.exec_driver_sql(statement)
        if dialect.postgresql:
            async with database.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("ANALYZE")
    finally:
        await database.dispose()
    return time.perf_counter() - started


async def storage(url: str) -> dict[str, Any]:
    """SQLite: the file's pages and free pages; PostgreSQL: live and dead tuples and autovacuum runs per table."""
    import sqlalchemy as sa

    from baton.server.database.engine import Database

    database = Database(url)
    await database.open()
    try:
        async with database.read() as connection:
            if connection.dialect.name == "sqlite":
                page_size = await connection.scalar(sa.text("PRAGMA page_size"))
                pages = await connection.scalar(sa.text("PRAGMA page_count"))
                free = await connection.scalar(sa.text("PRAGMA freelist_count"))
                return {"file_mb": round(pages * page_size / 2**20, 1), "free_pages": free, "pages": pages}
            names = ", ".join(f"'{name}'" for name in PRUNED_TABLES)
            result = await connection.exec_driver_sql(
                "SELECT relname, n_live_tup, n_dead_tup, autovacuum_count FROM pg_stat_user_tables "
                f"WHERE relname IN ({names}) ORDER BY relname"
            )
            rows: list[Any] = list(result.all())
            return {row[0]: {"live": row[1], "dead": row[2], "autovacuums": row[3]} for row in rows}
    finally:
        await database.dispose()


PRUNE_SCRIPT = """
import asyncio, json, sys, tempfile, time
from baton.server.database.engine import Database
from baton.server.models.retention import prune_expired, retention_days
from baton.settings import Settings

async def main() -> None:
    database = Database(sys.argv[1])
    await database.open()
    days = retention_days(Settings(home=tempfile.mkdtemp()))
    started = time.time()
    pruned = await prune_expired(database, days, batch_size=int(sys.argv[2]), max_batches=10**9)
    ended = time.time()
    await database.dispose()
    print(json.dumps({"started": started, "ended": ended, "rows": {k.kind.name: k.rows for k in pruned}}))

asyncio.run(main())
"""


class TimedBench(lifecycle.Bench):
    """The life cycle workload, each call recorded with its start (wall clock) and latency (seconds)."""

    def __init__(self, client: Any, args: argparse.Namespace, calls: list[tuple[float, float]]) -> None:
        super().__init__(client, args)
        self.calls = calls

    async def call(self, operation: str, method: str, path: str, body: Any = None) -> Any:
        started_wall, started = time.time(), time.perf_counter()
        try:
            return await super().call(operation, method, path, body)
        finally:
            self.calls.append((started_wall, time.perf_counter() - started))


async def run_rounds(args: argparse.Namespace, calls: list[tuple[float, float]], until: asyncio.Event) -> int:
    """Life cycle rounds of `--runs-per-round` runs until `until` is set; the errors."""
    errors = 0
    async with lifecycle.make_client(args, 4) as client:
        while not until.is_set():
            bench = TimedBench(client, args, calls)
            await bench.run()
            errors += sum(bench.results.errors_by_reason.values())
    return errors


def percentiles(latencies: list[float]) -> dict[str, float | None]:
    ordered = sorted(latencies)
    return {f"p{int(q * 100)}_ms": lifecycle.percentile_ms(ordered, q) for q in (0.5, 0.95, 0.99)}


async def measure(args: argparse.Namespace, url: str, api_url: str) -> dict[str, Any]:
    args.api_url = api_url
    baseline: list[tuple[float, float]] = []
    stop = asyncio.Event()
    workload = asyncio.create_task(run_rounds(args, baseline, stop))
    await asyncio.sleep(args.baseline_seconds)
    stop.set()
    baseline_errors = await workload

    during: list[tuple[float, float]] = []
    stop = asyncio.Event()
    workload = asyncio.create_task(run_rounds(args, during, stop))
    await asyncio.sleep(1.0)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PRUNE_SCRIPT, url, str(args.batch_size), stdout=subprocess.PIPE
    )
    output, _ = await process.communicate()
    stop.set()
    during_errors = await workload
    pass_report = json.loads(output.decode().strip().splitlines()[-1])
    in_pass = [latency for started, latency in during if pass_report["started"] <= started <= pass_report["ended"]]
    return {
        "pass_in": "another process",
        "deleted": pass_report["rows"],
        **phases(
            [latency for _, latency in baseline],
            in_pass,
            pass_report["ended"] - pass_report["started"],
            (baseline_errors, during_errors),
        ),
    }


def phases(baseline: list[float], during: list[float], pass_seconds: float, errors: tuple[int, int]) -> dict[str, Any]:
    base, with_pass = percentiles(baseline), percentiles(during)
    ratio = round(with_pass["p95_ms"] / base["p95_ms"], 2) if base["p95_ms"] and with_pass["p95_ms"] else None
    return {
        "pass_seconds": round(pass_seconds, 2),
        "baseline": {**base, "calls": len(baseline), "errors": errors[0]},
        "during_pass": {**with_pass, "calls": len(during), "errors": errors[1]},
        "p95_ratio": ratio,
    }


async def measure_in_server(args: argparse.Namespace, url: str, api_url: str, boundary: float) -> dict[str, Any]:
    """The pass the server's own beat starts at `boundary` (the start of its next retention period): the workload
    runs from now until the pass has deleted every expired row; calls before `boundary` are the baseline."""
    args.api_url = api_url
    calls: list[tuple[float, float]] = []
    stop = asyncio.Event()
    workload = asyncio.create_task(run_rounds(args, calls, stop))
    await asyncio.sleep(max(0.0, boundary - time.time()))
    while sum((await left_expired(url)).values()):  # noqa: ASYNC110 (the database is polled: no event to wait on)
        await asyncio.sleep(0.5)
    ended = time.time()
    stop.set()
    errors = await workload
    baseline = [latency for started, latency in calls if started < boundary]
    during = [latency for started, latency in calls if boundary <= started <= ended]
    return {"pass_in": "the server (embedded)", **phases(baseline, during, ended - boundary, (errors, 0))}


async def left_expired(url: str) -> dict[str, int]:
    """Rows of each kind still past the default retention (0 everywhere after a complete pass)."""
    from baton.server.database.engine import Database
    from baton.server.models.retention import count_expired, retention_days
    from baton.settings import Settings

    database = Database(url)
    await database.open()
    try:
        counted = await count_expired(database, retention_days(Settings(home=Path(tempfile.mkdtemp()))))
    finally:
        await database.dispose()
    return {kind.kind.name: kind.rows for kind in counted}


async def vacuum(url: str, wait_seconds: float) -> dict[str, Any]:
    """The pruned tables' dead tuples once vacuumed: by autovacuum within `wait_seconds` when the server runs it, else
    by a plain VACUUM of each table (what autovacuum would run), timed."""
    from baton.server.database.engine import Database

    database = Database(url)
    await database.open()
    try:
        async with database.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            autovacuum_on = (await autocommit.exec_driver_sql("SHOW autovacuum")).scalar() == "on"
            if not autovacuum_on:
                started = time.perf_counter()
                for table in PRUNED_TABLES:
                    await autocommit.exec_driver_sql(f"VACUUM {table}")
                seconds = time.perf_counter() - started
                return {"autovacuum": "off", "manual_vacuum_seconds": round(seconds, 2), "tables": await storage(url)}
    finally:
        await database.dispose()
    deadline = time.monotonic() + wait_seconds
    while True:
        stats = await storage(url)
        if all(table["dead"] < max(1000, table["live"] * 0.2) for table in stats.values()):
            return {
                "autovacuum": "on",
                "seconds_waited": round(wait_seconds - (deadline - time.monotonic()), 1),
                "tables": stats,
            }
        if time.monotonic() > deadline:
            return {"autovacuum": "on", "seconds_waited": wait_seconds, "tables": stats, "timed_out": True}
        await asyncio.sleep(5.0)


def server_env(url: str, home: Path, retention_period: float | None) -> dict[str, str]:
    """Without `retention_period` every retention setting is 0 in the server (its startup pass must not delete the
    seeded rows: the measured pass does); with it, the defaults and a pass every `retention_period` seconds."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("BATON_", "PREFECT_"))}
    env.update(BATON_HOME=str(home), BATON_API_DATABASE_CONNECTION_URL=url, BATON_LOGGING_LEVEL="WARNING")
    if retention_period is None:
        env.update({f"BATON_{kind}_RETENTION_DAYS": "0" for kind in RETENTION_SETTINGS})
    else:
        # One pass deletes every seeded row (the default cap would spread them over several periods).
        env["BATON_SERVICES_RETENTION_LOOP_SECONDS"] = str(retention_period)
        env["BATON_SERVICES_RETENTION_MAX_BATCHES"] = str(10**9)
    return env


def start_server(url: str, home: Path, retention_period: float | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = lifecycle._free_port()
    command = [sys.executable, "-m", "baton", "server", "start", "--no-ui", "--host", "127.0.0.1", "--port", str(port)]
    env = server_env(url, home, retention_period)
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    api_url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + lifecycle.SERVER_START_SECONDS
    import httpx

    while True:
        try:
            if httpx.get(f"{api_url}/health", timeout=1.0).status_code == 200:
                return process, api_url
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start; see {home / 'server.log'}")
        time.sleep(0.2)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a PostgreSQL admin DSN")
    parser.add_argument("--rows", type=int, default=None, help="expired rows (1,000,000 PostgreSQL, 200,000 SQLite)")
    parser.add_argument("--batch-size", type=int, default=1000, help="BATON_SERVICES_RETENTION_BATCH_SIZE")
    parser.add_argument("--baseline-seconds", type=float, default=60.0, help="life cycle without a pass")
    parser.add_argument("--runs-per-round", type=int, default=32, help="flow runs per life cycle round")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent life cycle clients")
    parser.add_argument(
        "--vacuum-wait", type=float, default=120.0, help="PostgreSQL with autovacuum on: most seconds to wait for it"
    )
    parser.add_argument(
        "--pass-in",
        choices=("server", "process"),
        default=None,
        help="where the pass runs: the server's own beat (embedded actors; default on SQLite) or another process "
        "(as `baton server services` or the prune command; default on PostgreSQL)",
    )
    parser.add_argument(
        "--retention-period", type=float, default=60.0, help="with --pass-in server: seconds of the beat's period"
    )
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    args.postgresql = args.database != "sqlite"
    args.pass_in = args.pass_in or ("process" if args.postgresql else "server")
    args.rows = args.rows or (1_000_000 if args.postgresql else 200_000)
    # What api_lifecycle.Bench reads.
    args.runs, args.tasks_per_run, args.logs_per_run, args.api_key = args.runs_per_round, 10, 10, None
    return args


def main() -> int:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="baton-retention-"))
    if args.postgresql:
        name = f"baton_bench_retention_{os.getpid()}"
        asyncio.run(lifecycle._postgres(args.database, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"))
        url = f"{args.database.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'baton.db'}"
    report: dict[str, Any] = {"label": args.label, "database": "postgresql" if args.postgresql else "sqlite"}
    report["rows"] = args.rows
    try:
        asyncio.run(lifecycle._prepare_database(url, mint_key=False))
        if args.pass_in == "server":
            # The beat sends its first pass at start (nothing to delete yet) and the next when the period of
            # `--retention-period` seconds (aligned to the epoch) turns: start just after it turned.
            time.sleep(-time.time() % args.retention_period)
            process, api_url = start_server(url, workdir, args.retention_period)
            boundary = (time.time() // args.retention_period + 1) * args.retention_period
        else:
            process, api_url = start_server(url, workdir)
        try:
            report["seed_seconds"] = round(asyncio.run(seed(url, args.rows)), 1)
            report["storage_after_seed"] = asyncio.run(storage(url))
            if args.pass_in == "server":
                report |= asyncio.run(measure_in_server(args, url, api_url, boundary))
            else:
                report |= asyncio.run(measure(args, url, api_url))
        finally:
            lifecycle.stop_process(process)
        report["left_expired"] = asyncio.run(left_expired(url))
        report["storage_after_pass"] = asyncio.run(storage(url))
        if args.postgresql:
            report["after_vacuum"] = asyncio.run(vacuum(url, args.vacuum_wait))
        else:
            # The steady state, with the server stopped: the same rows seeded and pruned again, twice. A file that
            # reuses its free pages is as large after the third seeding as after the second.
            for round_name in ("second", "third"):
                asyncio.run(seed(url, args.rows))
                report[f"storage_after_{round_name}_seed"] = asyncio.run(storage(url))
                command = [sys.executable, "-c", PRUNE_SCRIPT, url, str(args.batch_size)]
                subprocess.run(command, check=True, capture_output=True)
                report[f"storage_after_{round_name}_pass"] = asyncio.run(storage(url))
    finally:
        if args.postgresql:
            asyncio.run(lifecycle._postgres(args.database, f"DROP DATABASE IF EXISTS {name}"))
        shutil.rmtree(workdir, ignore_errors=True)
    print_summary(report)
    print(json.dumps(report))
    return 0


def print_summary(report: dict[str, Any]) -> None:
    print(f"{report['database']}: {report['rows']:,} expired rows seeded in {report['seed_seconds']} s")
    print(f"one pass in {report['pass_in']}: {report['pass_seconds']} s")
    for kind, rows in report.get("deleted", {}).items():
        print(f"  {kind:<25}{rows:>10,} (their dependents not counted)")
    for phase in ("baseline", "during_pass"):
        figures = report[phase]
        print(
            f"life cycle {phase:<12} p50 {lifecycle.format_ms(figures['p50_ms'])} ms  "
            f"p95 {lifecycle.format_ms(figures['p95_ms'])} ms  p99 {lifecycle.format_ms(figures['p99_ms'])} ms  "
            f"({figures['calls']} calls, {figures['errors']} errors)"
        )
    print(f"p95 during / without: {report['p95_ratio']}x (target: at most 2x)")
    print(f"expired rows left after the pass: {sum(report['left_expired'].values())}")
    for key in report:
        if key.startswith("storage_after") and report["database"] == "sqlite":
            print(f"{key}: {report[key]}")
    if "after_vacuum" in report:
        dead = {name: table["dead"] for name, table in report["storage_after_pass"].items()}
        print(f"dead tuples right after the pass: {dead}")
        vacuumed = report["after_vacuum"]
        dead = {name: table["dead"] for name, table in vacuumed["tables"].items()}
        how = (
            f"a manual VACUUM of each table ({vacuumed['manual_vacuum_seconds']} s; autovacuum is off on this server)"
            if vacuumed["autovacuum"] == "off"
            else f"{vacuumed['seconds_waited']} s of autovacuum"
        )
        print(f"dead tuples after {how}: {dead}")


if __name__ == "__main__":
    sys.exit(main())

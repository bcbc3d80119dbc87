"""Benchmark the scheduler: how long one pass takes to fill the horizon of many deployments.

What it measures: a fresh, migrated database (a temporary SQLite file, or a temporary PostgreSQL database created
through ``--postgres-admin-dsn``) gets ``--deployments`` deployments, each with one interval schedule of
``--interval`` seconds. Then the scheduler's own function (what the `schedule_deployments` actor runs) is timed for

1. the first fill: every deployment from empty to Prefect's horizon (at least 3 runs and at least an hour ahead,
   so 61 runs per deployment with 1-minute schedules: 61,000 runs for 1,000 deployments);
2. a steady-state pass one interval later (each deployment gains one run);
3. a pass with nothing to do (the query that finds deployments needing runs, alone);
4. two schedulers at once on an emptied database (two connection pools, as two services processes would have),
   checking that no (deployment, scheduled time) pair is inserted twice.

The output is a table on stdout and, as the last line, one JSON object with every figure.

Run it::

    .venv/bin/python benchmarks/scheduler.py --deployments 1000
    .venv/bin/python benchmarks/scheduler.py --deployments 1000 --postgres-admin-dsn postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from baton.server.database import migrate  # noqa: E402
from baton.server.database import tables as t  # noqa: E402
from baton.server.database.engine import Database  # noqa: E402
from baton.server.models.deployments.scheduling import SchedulerLimits, schedule_deployments  # noqa: E402


async def _admin(dsn: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _seed(database: Database, deployments: int, interval: float) -> None:
    """One flow and `deployments` deployments with one active interval schedule each, inserted in bulk."""
    now = dt.datetime.now(dt.UTC)
    flow_id = uuid.uuid4()
    schedule = {"interval": interval, "anchor_date": "2026-01-01T00:00:00+00:00", "timezone": "UTC"}
    rows, schedules = [], []
    for index in range(deployments):
        deployment_id = uuid.uuid4()
        rows.append(
            {
                "id": deployment_id,
                "created": now,
                "updated": now,
                "name": f"bench-{index}",
                "flow_id": flow_id,
                "status": "NOT_READY",
                "paused": False,
                "job_variables": {},
                "tags": ["bench"],
                "parameters": {"i": index},
                "enforce_parameter_schema": False,
            }
        )
        schedules.append(
            {
                "id": uuid.uuid4(),
                "created": now,
                "updated": now,
                "deployment_id": deployment_id,
                "schedule": schedule,
                "active": True,
                "parameters": {},
                "slug": None,
                "max_scheduled_runs": None,
            }
        )
    async with database.write() as connection:
        await connection.execute(t.flow.insert().values(id=flow_id, created=now, updated=now, name="bench", tags=[]))
        await connection.execute(t.deployment.insert(), rows)
        await connection.execute(t.deployment_schedule.insert(), schedules)


async def _counts(database: Database) -> tuple[int, int]:
    """(runs, distinct (deployment, scheduled time) pairs)."""
    run = t.flow_run.c
    async with database.read() as connection:
        runs = await connection.scalar(sa.select(sa.func.count()).select_from(t.flow_run))
        pairs = await connection.scalar(
            sa.select(sa.func.count()).select_from(
                sa.select(run.deployment_id, run.next_scheduled_start_time).distinct().subquery()
            )
        )
    return int(runs or 0), int(pairs or 0)


async def _timed(label: str, results: dict[str, Any], call: Any) -> int:
    started = time.perf_counter()
    inserted = await call
    seconds = time.perf_counter() - started
    results[label] = {
        "seconds": round(seconds, 3),
        "runs_inserted": inserted,
        "runs_per_second": round(inserted / seconds, 1) if seconds and inserted else 0,
    }
    print(f"{label:<22} {seconds:9.3f} s  {inserted:8d} runs  {results[label]['runs_per_second']:10.1f} runs/s")
    return inserted


async def run(args: argparse.Namespace) -> dict[str, Any]:
    database_name = f"baton_bench_scheduler_{os.getpid()}"
    workdir = tempfile.TemporaryDirectory()
    if args.postgres_admin_dsn:
        await _admin(args.postgres_admin_dsn, f'CREATE DATABASE "{database_name}"')
        base = args.postgres_admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        url = f"{base}/{database_name}"
    else:
        url = f"sqlite+aiosqlite:///{Path(workdir.name) / 'bench.db'}"
    database = Database(url)
    results: dict[str, Any] = {
        "label": args.label,
        "database": url.split(":", 1)[0],
        "deployments": args.deployments,
        "interval_seconds": args.interval,
    }
    try:
        await migrate.upgrade(database)
        await _seed(database, args.deployments, args.interval)
        limits = SchedulerLimits()
        now = dt.datetime.now(dt.UTC)
        print(
            f"{args.deployments} deployments, one {args.interval:g} s interval schedule each, on {results['database']}"
        )
        await _timed("first fill", results, schedule_deployments(database, limits, now=now))
        later = now + dt.timedelta(seconds=args.interval)
        await _timed("one interval later", results, schedule_deployments(database, limits, now=later))
        await _timed("nothing to do", results, schedule_deployments(database, limits, now=later))
        runs, pairs = await _counts(database)
        results["runs_after_fill"] = runs

        async with database.write() as connection:
            await connection.execute(sa.delete(t.flow_run))
        other = Database(url)
        started = time.perf_counter()
        counts = await asyncio.gather(
            schedule_deployments(database, limits, now=now), schedule_deployments(other, limits, now=now)
        )
        seconds = time.perf_counter() - started
        await other.dispose()
        runs, pairs = await _counts(database)
        results["two_schedulers"] = {
            "seconds": round(seconds, 3),
            "inserted_each": list(counts),
            "runs": runs,
            "duplicates": runs - pairs,
        }
        print(
            f"{'two schedulers at once':<22} {seconds:9.3f} s  {runs:8d} runs  inserted {counts}, "
            f"duplicates {runs - pairs}"
        )
    finally:
        await database.dispose()
        if args.postgres_admin_dsn:
            await _admin(args.postgres_admin_dsn, f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
        workdir.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the scheduler filling the horizon of many deployments.")
    parser.add_argument("--deployments", type=int, default=1000, help="Deployments to schedule.")
    parser.add_argument("--interval", type=float, default=60.0, help="Each deployment's schedule interval, seconds.")
    parser.add_argument(
        "--postgres-admin-dsn", default=None, help="Run on a temporary PostgreSQL database made through this DSN."
    )
    parser.add_argument("--label", default="", help="Free text echoed in the output.")
    results = asyncio.run(run(parser.parse_args()))
    print(json.dumps(results))


if __name__ == "__main__":
    main()

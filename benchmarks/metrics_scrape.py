"""What one `/metrics` scrape costs the database: the cluster-wide figures read afresh (no cache) over a database of
`--runs` flow runs (spread over the state types, 1% Late), `--deliveries` notification deliveries and `--workers`
workers, and the whole text rendered.

    python benchmarks/metrics_scrape.py                                   # a new SQLite file in a temporary folder
    python benchmarks/metrics_scrape.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_metrics

The PostgreSQL database must exist and be empty (it is migrated, filled, and left filled). Prints the median and
p95 of `--repeats` reads, and one JSON line last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from baton.server.database import migrate
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.metrics.cluster import read_cluster_figures
from baton.server.metrics.exposition import ServerMetrics
from baton.states import StateType

BATCH = 5_000


async def fill(database: Database, runs: int, deliveries: int, workers: int) -> None:
    now = utcnow()
    states = list(StateType)
    async with database.write() as connection:
        flow_id = uuid.uuid4()
        await connection.execute(sa.insert(t.flow), [{"id": flow_id, "name": f"bench-{flow_id.hex[:8]}"}])
        pool_id = uuid.uuid4()
        await connection.execute(sa.insert(t.work_pool), [{"id": pool_id, "name": f"pool-{pool_id.hex[:8]}"}])
        await connection.execute(
            sa.insert(t.worker),
            [
                {"work_pool_id": pool_id, "name": f"worker-{n}", "last_heartbeat_time": now, "status": "ONLINE"}
                for n in range(workers)
            ],
        )
        policy_id = uuid.uuid4()
    for start in range(0, runs, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, runs)):
            state = states[n % len(states)]
            late = n % 100 == 0
            rows.append(
                {
                    "name": f"run-{n}",
                    "flow_id": flow_id,
                    "state_type": (StateType.SCHEDULED if late else state).value,
                    "state_name": "Late" if late else state.value.title(),
                    "expected_start_time": now,
                }
            )
        async with database.write() as connection:
            await connection.execute(sa.insert(t.flow_run), rows)
    if deliveries:
        async with database.write() as connection:
            block_type_id, schema_id, document_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            await connection.execute(sa.insert(t.block_type), [{"id": block_type_id, "name": "b", "slug": "b"}])
            await connection.execute(
                sa.insert(t.block_schema), [{"id": schema_id, "checksum": "x", "block_type_id": block_type_id}]
            )
            await connection.execute(
                sa.insert(t.block_document),
                [
                    {
                        "id": document_id,
                        "name": "d",
                        "data": "{}",
                        "block_type_id": block_type_id,
                        "block_schema_id": schema_id,
                    }
                ],
            )
            await connection.execute(
                sa.insert(t.notification_policy), [{"id": policy_id, "block_document_id": document_id}]
            )
        for start in range(0, deliveries, BATCH):
            rows = [
                {"policy_id": policy_id, "flow_run_state_id": uuid.uuid4(), "status": "FAILED" if n % 50 else "SENT"}
                for n in range(start, min(start + BATCH, deliveries))
            ]
            async with database.write() as connection:
                await connection.execute(sa.insert(t.notification_delivery), rows)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'metrics.db'}"
    database = Database(url)
    await migrate.upgrade(database)
    await database.open()
    started = time.perf_counter()
    await fill(database, args.runs, args.deliveries, args.workers)
    fill_seconds = time.perf_counter() - started

    reads = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        await read_cluster_figures(database, None)
        reads.append((time.perf_counter() - started) * 1000)
    metrics = ServerMetrics(database, None, cache_seconds=0)
    renders = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        body = await metrics.render()
        renders.append((time.perf_counter() - started) * 1000)
    await database.dispose()

    def p95(values: list[float]) -> float:
        return sorted(values)[max(int(len(values) * 0.95) - 1, 0)]

    result = {
        "database": database.kind,
        "runs": args.runs,
        "deliveries": args.deliveries,
        "workers": args.workers,
        "fill_seconds": round(fill_seconds, 1),
        "read_ms_p50": round(statistics.median(reads), 1),
        "read_ms_p95": round(p95(reads), 1),
        "render_ms_p50": round(statistics.median(renders), 1),
        "render_ms_p95": round(p95(renders), 1),
        "body_bytes": len(body),
    }
    print(f"{database.kind}: {args.runs:,} runs, {args.deliveries:,} deliveries, {args.workers} workers")
    print(f"cluster figures read: p50 {result['read_ms_p50']} ms, p95 {result['read_ms_p95']} ms")
    print(f"whole scrape rendered: p50 {result['render_ms_p50']} ms, p95 {result['render_ms_p95']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())

"""`baton server database prune [--dry-run]` as a user types it: counts per kind, and a dry run deletes nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from tests.server.models.retention_rows import Rows

# A subprocess over the same SQL the model tests run on both databases.
ONE_DATABASE = "postgresql"


async def _seed(url: str) -> None:
    database = Database(url)
    await database.open()
    try:
        async with database.write() as connection:
            rows = Rows(connection)
            run = await rows.flow_run("COMPLETED", 100)
            await rows.log(100, run)
            await rows.event(8)
            await rows.event(8)
            await rows.event(1)
    finally:
        await database.dispose()


async def _count(url: str, table: sa.Table) -> int:
    database = Database(url)
    await database.open()
    try:
        async with database.read() as connection:
            return int(await connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
    finally:
        await database.dispose()


def _prune(url: str, home: Path, *args: str) -> list[list[str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))}
    env |= {"BATON_HOME": str(home), "BATON_API_DATABASE_CONNECTION_URL": url, "BATON_AUDIT_RETENTION_DAYS": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "baton", "server", "database", "prune", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [line.split()[:4] for line in done.stdout.splitlines()]


def test_dry_run_counts_and_deletes_nothing_then_prune_deletes(database_url: str, tmp_path: Path) -> None:
    asyncio.run(_seed(database_url))

    dry = _prune(database_url, tmp_path, "--dry-run")

    assert dry[0] == ["KIND", "KEPT", "WOULD", "DELETE"]
    assert ["flow_runs", "90", "days", "1"] in dry
    assert ["events", "7", "days", "2"] in dry
    assert ["audit_entries", "forever", "-", "audit"] in dry
    assert dry[-1] == ["Dry", "run:", "nothing", "was"]
    assert asyncio.run(_count(database_url, t.events)) == 3

    done = _prune(database_url, tmp_path)

    assert ["events", "7", "days", "2"] in done
    assert ["flow_runs", "90", "days", "1"] in done
    assert asyncio.run(_count(database_url, t.events)) == 1
    assert asyncio.run(_count(database_url, t.log)) == 0

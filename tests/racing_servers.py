"""For tests of server processes racing on one PostgreSQL database: a Database per process, and waiting until one
of them waits for another's lock."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import sqlalchemy as sa

from baton.server.database.engine import Database

LOCK_WAITS = sa.text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
)


@contextlib.asynccontextmanager
async def separate_databases(url: str, count: int) -> AsyncIterator[list[Database]]:
    """`count` open Database objects on `url`, each with its own connections, as separate processes would have."""
    databases = [Database(url) for _ in range(count)]
    try:
        for database in databases:
            await database.open()
        yield databases
    finally:
        for database in databases:
            await database.dispose()


async def wait_until_a_query_waits_for_a_lock(database: Database, timeout_seconds: float = 30.0) -> None:
    """Return once a session of this database waits for a lock (an insert blocked by another's uncommitted row)."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        async with database.read() as connection:
            if (await connection.execute(LOCK_WAITS)).scalar_one() > 0:
                return
        assert time.monotonic() < deadline, "no query waited for a lock"
        await asyncio.sleep(0.02)

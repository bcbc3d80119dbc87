"""What `/api/ready` checks: the database answers, its schema is at this code's head revision, and in Redis mode
Redis answers. A load balancer or orchestrator sends traffic to a process only while all three hold."""

from __future__ import annotations

import asyncio

import dramatiq

from baton.queue.depth import ping
from baton.queue.redis_mode import redis_errors
from baton.server.database import migrate
from baton.server.database.engine import Database

# Redis answers a PING in well under a millisecond; one that takes this long is as good as down.
REDIS_PING_TIMEOUT_SECONDS = 2.0


async def failed_checks(database: Database, broker: dramatiq.Broker | None) -> dict[str, str]:
    """Each failing check by name (database, schema, redis) with why; empty when the process is ready."""
    from baton.migrations import HEAD_REVISION

    failed: dict[str, str] = {}
    if not await database.is_reachable():
        failed["database"] = f"the {database.kind} database does not answer"
    else:
        revision = await migrate.current_revision(database)
        if revision != HEAD_REVISION:
            failed["schema"] = (
                f"the database schema is at revision {revision or 'none'}, not {HEAD_REVISION} "
                "(run `baton server database upgrade`)"
            )
    if broker is not None:
        try:
            await asyncio.wait_for(asyncio.to_thread(ping, broker), REDIS_PING_TIMEOUT_SECONDS)
        except redis_errors(OSError, TimeoutError) as exc:
            failed["redis"] = f"Redis does not answer ({exc})"
    return failed

"""Periodic job: give back the slots of concurrency leases that expired without being renewed (a dead holder)."""

from __future__ import annotations

import logging

from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.server.database.types import utcnow
from baton.server.models.concurrency.concurrency_leases import read_next_lease_expiry, revoke_expired_leases

logger = logging.getLogger("baton.actors")


async def expire_concurrency_leases(runtime: ActorRuntime) -> NothingDue | None:
    """Release the expired leases; before the first lease expires, nothing is due (and no write is made)."""
    database = await runtime.database()
    async with database.read() as connection:
        next_expiry = await read_next_lease_expiry(connection)
    if next_expiry is None or next_expiry > utcnow():
        return NothingDue(next_expiry)
    released = await revoke_expired_leases(database)
    if released:
        logger.info("Released %d expired concurrency leases", released)
    return None

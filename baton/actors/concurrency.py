"""Periodic job: give back the slots of concurrency leases that expired without being renewed (a dead holder)."""

from __future__ import annotations

import logging

from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.server.models.concurrency.concurrency_leases import read_next_lease_expiry, revoke_expired_leases

logger = logging.getLogger("baton.actors")


async def expire_concurrency_leases(runtime: ActorRuntime) -> NothingDue | None:
    """Release the expired leases; with none, nothing is due before the first lease left expires."""
    database = await runtime.database()
    released = await revoke_expired_leases(database)
    if released:
        logger.info("Released %d expired concurrency leases", released)
        return None
    async with database.read() as connection:
        return NothingDue(await read_next_lease_expiry(connection))

"""Periodic job: give back the slots of concurrency leases that expired without being renewed (a dead holder)."""

from __future__ import annotations

import logging

from baton.actors.runtime import ActorRuntime
from baton.server.models.concurrency.concurrency_leases import revoke_expired_leases

logger = logging.getLogger("baton.actors")


async def expire_concurrency_leases(runtime: ActorRuntime) -> None:
    released = await revoke_expired_leases(await runtime.database())
    if released:
        logger.info("Released %d expired concurrency leases", released)

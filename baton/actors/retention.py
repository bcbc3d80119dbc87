"""Periodic job: one retention pass, deleting each kind of data past its `*_retention_days` setting."""

from __future__ import annotations

import logging

from baton.actors.runtime import ActorRuntime
from baton.server.models.retention import prune_expired, retention_days

logger = logging.getLogger("baton.actors")


async def prune_expired_data(runtime: ActorRuntime) -> None:
    settings = runtime.settings
    pruned = await prune_expired(
        await runtime.database(),
        retention_days(settings),
        batch_size=settings.services_retention_batch_size,
        max_batches=settings.services_retention_max_batches,
    )
    for kind in pruned:
        if kind.rows:
            logger.info("Retention: deleted %d %s older than %d days.", kind.rows, kind.kind.name, kind.days)
        if not kind.complete:
            logger.info("Retention: more expired %s are left for the next pass.", kind.kind.name)

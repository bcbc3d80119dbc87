"""Periodic job: audit entries older than `audit_retention_days` are deleted."""

from __future__ import annotations

import datetime as dt
import logging

from baton.actors.runtime import ActorRuntime
from baton.server.database.types import utcnow
from baton.server.models.identity.audit import delete_audit_entries_before

logger = logging.getLogger("baton.actors")


async def trim_audit_log(runtime: ActorRuntime) -> None:
    database = await runtime.database()
    cutoff = utcnow() - dt.timedelta(days=runtime.settings.audit_retention_days)
    async with database.write() as connection:
        deleted = await delete_audit_entries_before(connection, cutoff)
    if deleted:
        logger.info("Deleted %d audit entries older than %s.", deleted, cutoff.isoformat())

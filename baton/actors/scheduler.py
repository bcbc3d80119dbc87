"""Periodic job and on-demand message: insert the upcoming Scheduled runs of active deployments.

The beat sends `schedule_deployments()` every `services_scheduler_loop_seconds`; the API sends
`schedule_deployments([id])` after it commits a new or changed deployment or schedule, so its runs appear within
seconds. Redelivery and concurrent passes are harmless: runs are keyed by idempotency key.
"""

from __future__ import annotations

import logging
import uuid

from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.server.models.deployments.scheduling import SchedulerLimits, any_scheduled_deployments
from baton.server.models.deployments.scheduling import schedule_deployments as schedule_runs

logger = logging.getLogger("baton.actors")


async def schedule_deployments(runtime: ActorRuntime, deployment_ids: list[str] | None = None) -> NothingDue | None:
    """One pass over the deployments (all, or those of `deployment_ids`). A periodic pass in a workspace without a
    scheduled deployment has nothing to do before a write."""
    database = await runtime.database()
    if deployment_ids is None:
        async with database.read() as connection:
            if not await any_scheduled_deployments(connection):
                return NothingDue()
    ids = [uuid.UUID(value) for value in deployment_ids] if deployment_ids is not None else None
    limits = SchedulerLimits.from_settings(runtime.settings)
    inserted = await schedule_runs(database, limits, deployment_ids=ids)
    if inserted:
        logger.info("Scheduled %d flow runs", inserted)
    return None

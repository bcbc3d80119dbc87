"""Periodic job and on-demand message: insert the upcoming Scheduled runs of active deployments.

The beat sends `schedule_deployments()` every `services_scheduler_loop_seconds`; the API sends
`schedule_deployments([id])` after it commits a new or changed deployment or schedule, so its runs appear within
seconds. Redelivery and concurrent passes are harmless: runs are keyed by idempotency key.
"""

from __future__ import annotations

import logging
import uuid

from baton.actors.runtime import ActorRuntime
from baton.server.models.deployments.scheduling import SchedulerLimits
from baton.server.models.deployments.scheduling import schedule_deployments as schedule_runs

logger = logging.getLogger("baton.actors")


async def schedule_deployments(runtime: ActorRuntime, deployment_ids: list[str] | None = None) -> None:
    ids = [uuid.UUID(value) for value in deployment_ids] if deployment_ids is not None else None
    limits = SchedulerLimits.from_settings(runtime.settings)
    inserted = await schedule_runs(await runtime.database(), limits, deployment_ids=ids)
    if inserted:
        logger.info("Scheduled %d flow runs", inserted)

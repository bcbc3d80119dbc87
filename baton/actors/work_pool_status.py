"""Periodic job: workers that stopped sending heartbeats go OFFLINE, pools without an online worker NOT_READY, work
queues and deployments that no worker polled recently NOT_READY (Prefect's foreman); their status events go to the
trigger engine."""

from __future__ import annotations

import logging

from baton.actors.automation_triggers import queue_trigger_evaluation
from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.server.models.work_pools.workers import StatusRules, any_status_to_watch, update_statuses

logger = logging.getLogger("baton.actors")


def status_rules(settings: object) -> StatusRules:
    """The sweep's thresholds from the settings."""
    return StatusRules(
        inactivity_heartbeat_multiple=settings.services_foreman_inactivity_heartbeat_multiple,  # type: ignore[attr-defined]
        fallback_heartbeat_interval_seconds=settings.services_foreman_fallback_heartbeat_interval_seconds,  # type: ignore[attr-defined]
        last_polled_timeout_seconds=settings.services_foreman_last_polled_timeout_seconds,  # type: ignore[attr-defined]
    )


async def update_work_pool_statuses(runtime: ActorRuntime) -> NothingDue | None:
    """One status sweep; with nothing ONLINE or READY, nothing is due before a write (and no write is made)."""
    database = await runtime.database()
    async with database.read() as connection:
        if not await any_status_to_watch(connection):
            return NothingDue()
    async with database.write() as connection:
        changes = await update_statuses(connection, status_rules(runtime.settings))
    await queue_trigger_evaluation(runtime, changes.events)
    if changes.workers_offline or changes.pools_not_ready:
        logger.info(
            "%d workers went offline; %d work pools are not ready", changes.workers_offline, changes.pools_not_ready
        )
    return None

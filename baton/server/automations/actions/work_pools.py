"""Work pool and work queue actions: pause or resume the selected one, or the one the triggering event involves,
as `PATCH /work_pools/{name}` and `PATCH /work_queues/{id}` do (the status follows the pause)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.queue import messages
from baton.server.automations.actions.base import ActionContext, ActionFailed
from baton.server.models.work_pools import work_pools, work_queues
from baton.server.schemas.automations import PauseWorkPool, PauseWorkQueue, ResumeWorkPool, ResumeWorkQueue
from baton.server.schemas.work_pools import WorkPoolUpdate, WorkQueueUpdate

WORK_POOL_KIND = "prefect.work-pool"
WORK_QUEUE_KIND = "prefect.work-queue"


async def _pause_work_pool(
    connection: AsyncConnection, context: ActionContext, action: PauseWorkPool | ResumeWorkPool, paused: bool
) -> None:
    pool_id = context.target_id(action.source, action.work_pool_id, WORK_POOL_KIND, "work pool")
    pool = await work_pools.read_work_pool(connection, pool_id)
    if pool is None:
        context.target(f"{WORK_POOL_KIND}.{pool_id}")
        raise ActionFailed(f"Work pool {pool_id} was not found")
    context.target(f"{WORK_POOL_KIND}.{pool_id}", name=pool["name"])
    locked = await work_pools.read_work_pool_by_name(connection, pool["name"], for_update=True)
    assert locked is not None
    events = await work_pools.update_work_pool(connection, locked, WorkPoolUpdate(is_paused=paused))
    if events:
        context.messages.append(messages.evaluate_triggers(list[messages.QueuedEvent](events)))


async def pause_work_pool(connection: AsyncConnection, context: ActionContext, action: PauseWorkPool) -> None:
    await _pause_work_pool(connection, context, action, True)


async def resume_work_pool(connection: AsyncConnection, context: ActionContext, action: ResumeWorkPool) -> None:
    await _pause_work_pool(connection, context, action, False)


async def _pause_work_queue(
    connection: AsyncConnection, context: ActionContext, action: PauseWorkQueue | ResumeWorkQueue, paused: bool
) -> None:
    queue_id = context.target_id(action.source, action.work_queue_id, WORK_QUEUE_KIND, "work queue")
    context.target(f"{WORK_QUEUE_KIND}.{queue_id}")
    queue = await work_queues.read_work_queue(connection, queue_id)
    if queue is None:
        raise ActionFailed(f"Work queue {queue_id} was not found")
    events = await work_queues.update_work_queue(connection, queue, WorkQueueUpdate(is_paused=paused))
    if events:
        context.messages.append(messages.evaluate_triggers(list[messages.QueuedEvent](events)))


async def pause_work_queue(connection: AsyncConnection, context: ActionContext, action: PauseWorkQueue) -> None:
    await _pause_work_queue(connection, context, action, True)


async def resume_work_queue(connection: AsyncConnection, context: ActionContext, action: ResumeWorkQueue) -> None:
    await _pause_work_queue(connection, context, action, False)

"""Why a flow run is not starting: reads the facts a worker's poll and the PENDING proposal decide on, with the same
model functions they use, and hands them to `blocker_rules.find_blockers`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.concurrency import concurrency_leases, concurrency_limits
from baton.server.models.concurrency.deployment_concurrency import read_deployment_concurrency
from baton.server.models.deployments.deployments import deployment_limit_name
from baton.server.models.runs.blocker_rules import BlockerFacts, LimitFacts, find_blockers
from baton.server.models.runs.flow_runs import read_flow_run
from baton.server.models.work_pools.concurrency_status import select_slot_holders
from baton.server.models.work_pools.scheduled_runs import pool_room, queue_room
from baton.server.models.work_pools.work_pools import count_active_slots, read_work_pool
from baton.server.models.work_pools.work_queues import read_work_queue
from baton.server.schemas.blockers import FlowRunBlockers, SlotHolder
from baton.states import StateType

Row = dict[str, Any]
# The holders listed for a full limit: enough to see who holds it, few enough for a page.
HOLDERS_SHOWN = 20


async def _run_holders(connection: AsyncConnection, queue_ids: list[uuid.UUID] | sa.Select[Any]) -> list[SlotHolder]:
    rows = await connection.execute(select_slot_holders(queue_ids).limit(HOLDERS_SHOWN))
    return [SlotHolder(type="flow_run", id=row.id, name=row.name) for row in rows]


async def _limit_facts(connection: AsyncConnection, deployment_id: uuid.UUID, now: dt.datetime) -> LimitFacts | None:
    """The deployment's active concurrency limit, its slots taken at `now` (as a slot request counts them) and the
    lease holders (flow runs named)."""
    concurrency = await read_deployment_concurrency(connection, deployment_id)
    if concurrency is None:
        return None
    row = await concurrency_limits.read_concurrency_limit(connection, concurrency.limit_id)
    if row is None:
        return None
    leases = (await concurrency_leases.read_limit_holders(connection, [row["id"]]))[row["id"]][:HOLDERS_SHOWN]
    run_ids = [lease["id"] for lease in leases if lease["type"] == "flow_run" and lease["id"] is not None]
    names: dict[uuid.UUID, str] = {}
    if run_ids:
        query = sa.select(t.flow_run.c.id, t.flow_run.c.name).where(t.flow_run.c.id.in_(run_ids))
        names = {run_id: name for run_id, name in await connection.execute(query)}
    return LimitFacts(
        id=row["id"],
        name=row["name"],
        limit=row["limit"],
        active_slots=concurrency_limits.slot_counts(row, now).active,
        is_deployment_own=row["name"] == deployment_limit_name(deployment_id),
        holders=[SlotHolder(type=lease["type"], id=lease["id"], name=names.get(lease["id"])) for lease in leases],
    )


async def _deployment(connection: AsyncConnection, deployment_id: uuid.UUID | None) -> Row | None:
    if deployment_id is None:
        return None
    deployment = t.deployment.c
    query = sa.select(deployment.id, deployment.name, deployment.status, deployment.last_polled).where(
        deployment.id == deployment_id
    )
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def read_blocker_facts(connection: AsyncConnection, run: Row, now: dt.datetime) -> BlockerFacts:
    """Everything `find_blockers` needs for the run; only the run itself unless it is SCHEDULED."""
    if run["state_type"] != StateType.SCHEDULED.value:
        return BlockerFacts(run=run)
    queue = await read_work_queue(connection, run["work_queue_id"]) if run["work_queue_id"] else None
    pool = await read_work_pool(connection, queue["work_pool_id"]) if queue else None
    deployment = await _deployment(connection, run["deployment_id"])
    limit = await _limit_facts(connection, deployment["id"], now) if deployment else None
    if queue is None or pool is None:
        return BlockerFacts(run=run, deployment=deployment, deployment_limit=limit)
    busy_per_pool, busy_per_queue = await count_active_slots(connection, [pool["id"]])
    pool_holders: list[SlotHolder] = []
    if pool_room(pool, busy_per_pool) == 0:
        pool_queues = sa.select(t.work_queue.c.id).where(t.work_queue.c.work_pool_id == pool["id"])
        pool_holders = await _run_holders(connection, pool_queues)
    queue_holders = await _run_holders(connection, [queue["id"]]) if queue_room(queue, busy_per_queue) == 0 else []
    return BlockerFacts(
        run=run,
        pool=pool,
        queue=queue,
        deployment=deployment,
        busy_per_pool=busy_per_pool,
        busy_per_queue=busy_per_queue,
        pool_holders=pool_holders,
        queue_holders=queue_holders,
        deployment_limit=limit,
    )


async def read_blockers_of_run(connection: AsyncConnection, run: Row, now: dt.datetime) -> FlowRunBlockers:
    """What holds back `run` (a row of `read_flow_run`) at `now`."""
    return find_blockers(await read_blocker_facts(connection, run, now), now)


async def read_flow_run_blockers(
    connection: AsyncConnection, flow_run_id: uuid.UUID, now: dt.datetime | None = None
) -> FlowRunBlockers:
    """What holds the run back from starting now; ObjectNotFound when there is no such run."""
    run = await read_flow_run(connection, flow_run_id)
    if run is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
    return await read_blockers_of_run(connection, run, now or utcnow())

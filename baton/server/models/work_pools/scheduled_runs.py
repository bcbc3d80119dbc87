"""The runs a worker's (or agent's) poll may take: SCHEDULED runs of a pool's queues, by queue priority, within the
pool's and each queue's concurrency limit, none from a paused pool or queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.runs.flow_runs import select_flow_runs

Row = dict[str, Any]
# States in which a run occupies a slot of its queue and pool.
ACTIVE_STATE_TYPES = ("PENDING", "RUNNING", "CANCELLING")


async def _active_runs(connection: AsyncConnection, queue_ids: list[Any]) -> dict[Any, int]:
    """Per queue id, how many of its runs are Pending, Running or Cancelling."""
    if not queue_ids:
        return {}
    run = t.flow_run.c
    query = (
        sa.select(run.work_queue_id, sa.func.count())
        .where(run.work_queue_id.in_(queue_ids), run.state_type.in_(ACTIVE_STATE_TYPES))
        .group_by(run.work_queue_id)
    )
    return {row[0]: int(row[1]) for row in (await connection.execute(query)).all()}


async def read_scheduled_flow_runs(
    connection: AsyncConnection,
    pool: Row,
    queues: list[Row],
    *,
    scheduled_before: dt.datetime | None,
    scheduled_after: dt.datetime | None,
    limit: int,
) -> list[tuple[Row, Row]]:
    """(queue, run) pairs a poll may take, highest-priority queue first, soonest run first within a queue."""
    if pool.get("is_paused"):
        return []
    open_queues = sorted((q for q in queues if not q.get("is_paused")), key=lambda q: (q["priority"], q["name"]))
    if not open_queues:
        return []
    all_queue_ids = list(
        await connection.scalars(sa.select(t.work_queue.c.id).where(t.work_queue.c.work_pool_id == pool["id"]))
    )
    active = await _active_runs(connection, all_queue_ids)
    pool_room = None
    if pool.get("concurrency_limit") is not None:
        pool_room = max(pool["concurrency_limit"] - sum(active.values()), 0)
    taken: list[tuple[Row, Row]] = []
    run = t.flow_run.c
    for queue in open_queues:
        room = limit - len(taken)
        if queue.get("concurrency_limit") is not None:
            room = min(room, max(queue["concurrency_limit"] - active.get(queue["id"], 0), 0))
        if pool_room is not None:
            room = min(room, pool_room)
        if room <= 0:
            continue
        conditions = [run.work_queue_id == queue["id"], run.state_type == "SCHEDULED"]
        if scheduled_before is not None:
            conditions.append(run.next_scheduled_start_time <= scheduled_before)
        if scheduled_after is not None:
            conditions.append(run.next_scheduled_start_time >= scheduled_after)
        query = (
            select_flow_runs()
            .where(*conditions)
            .order_by(run.next_scheduled_start_time.asc().nulls_last(), run.id)
            .limit(room)
        )
        rows = [dict(row) for row in (await connection.execute(query)).mappings()]
        taken.extend((queue, row) for row in rows)
        if pool_room is not None:
            pool_room -= len(rows)
        if len(taken) >= limit:
            break
    return taken

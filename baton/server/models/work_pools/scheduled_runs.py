"""The runs a worker's (or agent's) poll may take: SCHEDULED runs of a pool's queues, by queue priority, within the
pool's and each queue's concurrency limit, none from a paused pool or queue.

`pool_room` and `queue_room` are the facts the poll decides on; `models/runs/blockers.py` reports them when they
hold a run back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.runs.flow_runs import select_flow_runs
from baton.server.models.work_pools.work_pools import count_active_slots

Row = dict[str, Any]


def pool_room(pool: Row, busy_per_pool: dict[Any, int]) -> int | None:
    """How many more runs the pool's concurrency limit lets start (never below 0); None when it has no limit."""
    if pool.get("concurrency_limit") is None:
        return None
    return max(pool["concurrency_limit"] - busy_per_pool.get(pool["id"], 0), 0)


def queue_room(queue: Row, busy_per_queue: dict[Any, int]) -> int | None:
    """How many more runs the queue's concurrency limit lets start (never below 0); None when it has no limit."""
    if queue.get("concurrency_limit") is None:
        return None
    return max(queue["concurrency_limit"] - busy_per_queue.get(queue["id"], 0), 0)


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
    busy_per_pool, busy_per_queue = await count_active_slots(connection, [pool["id"]])
    room_in_pool = pool_room(pool, busy_per_pool)
    taken: list[tuple[Row, Row]] = []
    run = t.flow_run.c
    for queue in open_queues:
        room = limit - len(taken)
        room_in_queue = queue_room(queue, busy_per_queue)
        if room_in_queue is not None:
            room = min(room, room_in_queue)
        if room_in_pool is not None:
            room = min(room, room_in_pool)
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
        if room_in_pool is not None:
            room_in_pool -= len(rows)
        if len(taken) >= limit:
            break
    return taken

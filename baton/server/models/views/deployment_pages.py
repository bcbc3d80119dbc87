"""Queries of the UI's Deployments and Work Pools pages: a keyset page of deployments with their flow, pool and
schedules, a deployment's upcoming runs, and the pools with their queue and online-worker counts.

Every list is read in a fixed number of queries whatever its length (counts are grouped, never one per row).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.deployments import deployment_schedules
from baton.server.models.filters.core import contains_text
from baton.server.models.views import run_pages
from baton.server.models.views.run_pages import Cursor, Page
from baton.server.models.work_pools import work_queues

Row = dict[str, Any]
# A page lists at most this many pools: pools are few (one per kind of infrastructure), so they are not paged.
MAX_POOLS = 500

_deployment = t.deployment.c
_queue = t.work_queue.alias("page_queue")
_pool = t.work_pool.alias("page_pool")
_DEPLOYMENT_COLUMNS = [
    _deployment.id,
    _deployment.name,
    _deployment.flow_id,
    t.flow.c.name.label("flow_name"),
    _deployment.paused,
    _deployment.status,
    _deployment.tags,
    _deployment.work_queue_name,
    _pool.c.name.label("work_pool_name"),
    _deployment.created,
]


async def read_deployment_page(
    connection: AsyncConnection,
    name: str | None,
    limit: int,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> Page:
    """One page of deployments by name (then id), those whose name or flow's name contains `name` when given; each
    row has its flow's and pool's names, its `schedules` and its `next_run` (one query each for all of them)."""
    query = sa.select(*_DEPLOYMENT_COLUMNS).select_from(
        t.deployment.join(t.flow, t.flow.c.id == _deployment.flow_id)
        .outerjoin(_queue, _queue.c.id == _deployment.work_queue_id)
        .outerjoin(_pool, _pool.c.id == _queue.c.work_pool_id)
    )
    if name:
        query = query.where(sa.or_(contains_text(_deployment.name, name), contains_text(t.flow.c.name, name)))
    page = await run_pages.keyset_page(
        connection, query, _deployment.name, _deployment.id, descending=False, limit=limit, after=after, before=before
    )
    schedules = await deployment_schedules.read_deployment_schedules(connection, [row["id"] for row in page.rows])
    next_runs = await read_next_runs(connection, [row["id"] for row in page.rows])
    for row in page.rows:
        row["schedules"] = schedules.get(row["id"], [])
        row["next_run"] = next_runs.get(row["id"])
    return page


async def read_next_runs(connection: AsyncConnection, deployment_ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
    """Per deployment, its soonest run waiting in a Scheduled state (one pass over their scheduled runs, which the
    scheduler keeps few)."""
    if not deployment_ids:
        return {}
    run = t.flow_run.c
    ranked = (
        sa.select(
            run.id,
            sa.func.row_number()
            .over(partition_by=run.deployment_id, order_by=[run.expected_start_time.asc(), run.id.asc()])
            .label("position"),
        )
        .where(run.deployment_id.in_(deployment_ids), run.state_type == "SCHEDULED")
        .subquery("ranked")
    )
    query = run_pages.select_run_list().where(run.id.in_(sa.select(ranked.c.id).where(ranked.c.position == 1)))
    return {row["deployment_id"]: dict(row) for row in (await connection.execute(query)).mappings()}


async def read_upcoming_runs(connection: AsyncConnection, deployment_id: uuid.UUID, limit: int) -> list[Row]:
    """The deployment's runs waiting in a Scheduled state (Late ones included), soonest first."""
    run = t.flow_run.c
    query = (
        run_pages.select_run_list()
        .where(run.deployment_id == deployment_id, run.state_type == "SCHEDULED")
        .order_by(run.expected_start_time.asc(), run.id.asc())
        .limit(limit)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_flow_name(connection: AsyncConnection, flow_id: uuid.UUID) -> str | None:
    return await connection.scalar(sa.select(t.flow.c.name).where(t.flow.c.id == flow_id))


async def read_work_pool_summaries(connection: AsyncConnection) -> list[Row]:
    """Every pool by name, with `queue_count` and `online_workers` (two grouped subqueries, not one per pool)."""
    queues = (
        sa.select(t.work_queue.c.work_pool_id, sa.func.count().label("queue_count"))
        .group_by(t.work_queue.c.work_pool_id)
        .subquery("queues")
    )
    online = (
        sa.select(t.worker.c.work_pool_id, sa.func.count().label("online_workers"))
        .where(t.worker.c.status == "ONLINE")
        .group_by(t.worker.c.work_pool_id)
        .subquery("online")
    )
    query = (
        sa.select(
            t.work_pool,
            sa.func.coalesce(queues.c.queue_count, 0).label("queue_count"),
            sa.func.coalesce(online.c.online_workers, 0).label("online_workers"),
        )
        .select_from(
            t.work_pool.outerjoin(queues, queues.c.work_pool_id == t.work_pool.c.id).outerjoin(
                online, online.c.work_pool_id == t.work_pool.c.id
            )
        )
        .order_by(t.work_pool.c.name)
        .limit(MAX_POOLS)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_pool_deployments(connection: AsyncConnection, pool_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Per queue of the pool, how many deployments send their runs to it."""
    query = (
        sa.select(_deployment.work_queue_id, sa.func.count())
        .join(t.work_queue, t.work_queue.c.id == _deployment.work_queue_id)
        .where(t.work_queue.c.work_pool_id == pool_id)
        .group_by(_deployment.work_queue_id)
    )
    return {queue_id: int(count) for queue_id, count in await connection.execute(query)}


async def read_pool_queues(connection: AsyncConnection, pool_id: uuid.UUID) -> list[Row]:
    """The pool's queues, highest priority first."""
    return await work_queues.read_work_queues(connection, t.work_queue.c.work_pool_id == pool_id)


# The "New deployment" form lists at most this many flows and pool names; any flow's own page links to the form
# with the flow chosen, and any pool name may be typed.
MAX_CHOICES = 500


async def read_flow_choices(connection: AsyncConnection, limit: int = MAX_CHOICES) -> list[Row]:
    """[{id, name}] of the first `limit` flows by name, for a form's flow choice."""
    query = sa.select(t.flow.c.id, t.flow.c.name).order_by(t.flow.c.name, t.flow.c.id).limit(limit)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_work_pool_names(connection: AsyncConnection, limit: int = MAX_CHOICES) -> list[str]:
    """The first `limit` work pool names in order, for a form's suggestions."""
    query = sa.select(t.work_pool.c.name).order_by(t.work_pool.c.name).limit(limit)
    return list((await connection.scalars(query)).all())


async def read_latest_parameter_schema(connection: AsyncConnection, flow_id: uuid.UUID) -> dict[str, Any] | None:
    """The parameter schema of the flow's most recently updated deployment that has one (a non-empty object), or
    None: a new deployment of the flow takes the same parameters, and the flow's schema lives only on deployments."""
    deployment = t.deployment.c
    query = (
        sa.select(deployment.parameter_openapi_schema)
        .where(deployment.flow_id == flow_id, deployment.parameter_openapi_schema.is_not(None))
        .order_by(deployment.updated.desc(), deployment.id)
        .limit(MAX_CHOICES)
    )
    for schema in (await connection.scalars(query)).all():
        if isinstance(schema, dict) and schema.get("properties"):
            return schema
    return None

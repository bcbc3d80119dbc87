"""The status events of work pools, work queues and deployments (`prefect.work-pool.ready`, `.not-ready`, `.paused`
and the like), with the resources and related resources Prefect's server gives them.

Each is written in the transaction that changes the status, and only when the status actually changes; the writers
return the events so that their caller can hand them to the trigger engine after the commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.events.events import write_events

Row = dict[str, Any]
Event = dict[str, Any]

# A pool's status event `follows` the previous one only when that one is this recent, as Prefect's: closer events may
# arrive out of order, distant ones are ordered by their times well enough.
FOLLOWS_WITHIN = dt.timedelta(minutes=10)

POOL_COLUMNS = (t.work_pool.c.id, t.work_pool.c.name, t.work_pool.c.type)
DEPLOYMENT_COLUMNS = (
    t.deployment.c.id,
    t.deployment.c.name,
    t.deployment.c.flow_id,
    t.deployment.c.work_queue_id,
    t.deployment.c.storage_document_id,
    t.deployment.c.infrastructure_document_id,
    t.deployment.c.concurrency_limit_id,
)


def kebab(status: str) -> str:
    """`NOT_READY` -> `not-ready`, the status as event names spell it."""
    return str(status).lower().replace("_", "-")


def _event(name: str, resource: dict[str, str], related: list[dict[str, str]], occurred: dt.datetime) -> Event:
    return {
        "id": str(uuid.uuid4()),
        "occurred": occurred.isoformat(),
        "event": name,
        "resource": resource,
        "related": related,
        "payload": {},
        "follows": None,
        "received": occurred.isoformat(),
    }


def work_pool_related(pool: Row) -> dict[str, str]:
    """The pool as a related resource (role `work-pool`)."""
    return {
        "prefect.resource.id": f"prefect.work-pool.{pool['id']}",
        "prefect.resource.name": pool["name"],
        "prefect.work-pool.type": pool["type"],
        "prefect.resource.role": "work-pool",
    }


def work_pool_status_event(
    pool: Row, status: str, event_id: uuid.UUID, occurred: dt.datetime, previous: Row | None
) -> Event:
    """`prefect.work-pool.<status>` of `pool` (id, name, type), with the id the pool row stores as its
    `last_status_event_id`; it follows `previous`'s status event (the pool as it was) when that one is recent."""
    event = _event(
        f"prefect.work-pool.{kebab(status)}",
        {
            "prefect.resource.id": f"prefect.work-pool.{pool['id']}",
            "prefect.resource.name": pool["name"],
            "prefect.work-pool.type": pool["type"],
        },
        [],
        occurred,
    )
    event["id"] = str(event_id)
    if previous is not None:
        follows, since = previous.get("last_status_event_id"), previous.get("last_transitioned_status_at")
        if follows is not None and since is not None and occurred - since < FOLLOWS_WITHIN:
            event["follows"] = str(follows)
    return event


def work_queue_status_event(queue: Row, status: str, pool: Row | None, occurred: dt.datetime) -> Event:
    """`prefect.work-queue.<status>` of `queue` (id, name), its pool (id, name, type) related."""
    return _event(
        f"prefect.work-queue.{kebab(status)}",
        {
            "prefect.resource.id": f"prefect.work-queue.{queue['id']}",
            "prefect.resource.name": queue["name"],
            "prefect.resource.role": "work-queue",
        },
        [work_pool_related(pool)] if pool is not None else [],
        occurred,
    )


def deployment_status_event(
    deployment: Row, status: str, related: list[dict[str, str]], occurred: dt.datetime
) -> Event:
    """`prefect.deployment.<status>` of `deployment` (id, name) with its related resources."""
    return _event(
        f"prefect.deployment.{kebab(status)}",
        {"prefect.resource.id": f"prefect.deployment.{deployment['id']}", "prefect.resource.name": deployment["name"]},
        related,
        occurred,
    )


async def read_pools_by_id(connection: AsyncConnection, pool_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Row]:
    """{id: {id, name, type}} of the pools in `pool_ids` that exist."""
    wanted = list(set(pool_ids))
    if not wanted:
        return {}
    rows = await connection.execute(sa.select(*POOL_COLUMNS).where(t.work_pool.c.id.in_(wanted)))
    return {row.id: dict(row._mapping) for row in rows}


async def work_queue_status_events(
    connection: AsyncConnection, queues: list[Row], status: str, occurred: dt.datetime
) -> list[Event]:
    """The status events of `queues` (id, name, work_pool_id), which just took `status`."""
    pools = await read_pools_by_id(connection, (queue["work_pool_id"] for queue in queues))
    return [work_queue_status_event(queue, status, pools.get(queue["work_pool_id"]), occurred) for queue in queues]


async def deployment_status_events(
    connection: AsyncConnection, deployments: list[Row], status: str, occurred: dt.datetime
) -> list[Event]:
    """The status events of `deployments` (DEPLOYMENT_COLUMNS), which just took `status`; related as Prefect's:
    the flow, the work queue, its pool, the storage and infrastructure blocks and the concurrency limit."""
    if not deployments:
        return []
    flow_ids = list({row["flow_id"] for row in deployments})
    flows = {
        row.id: row.name
        for row in await connection.execute(sa.select(t.flow.c.id, t.flow.c.name).where(t.flow.c.id.in_(flow_ids)))
    }
    queue_ids = list({row["work_queue_id"] for row in deployments if row["work_queue_id"] is not None})
    queues: dict[uuid.UUID, Row] = {}
    if queue_ids:
        query = sa.select(t.work_queue.c.id, t.work_queue.c.name, t.work_queue.c.work_pool_id).where(
            t.work_queue.c.id.in_(queue_ids)
        )
        queues = {row.id: dict(row._mapping) for row in await connection.execute(query)}
    pools = await read_pools_by_id(connection, (queue["work_pool_id"] for queue in queues.values()))
    events = []
    for deployment in deployments:
        related: list[dict[str, str]] = []
        flow_name = flows.get(deployment["flow_id"])
        if flow_name is not None:
            related.append(
                {
                    "prefect.resource.id": f"prefect.flow.{deployment['flow_id']}",
                    "prefect.resource.name": flow_name,
                    "prefect.resource.role": "flow",
                }
            )
        queue = queues.get(deployment["work_queue_id"])
        if queue is not None:
            related.append(
                {
                    "prefect.resource.id": f"prefect.work-queue.{queue['id']}",
                    "prefect.resource.name": queue["name"],
                    "prefect.resource.role": "work-queue",
                }
            )
            pool = pools.get(queue["work_pool_id"])
            if pool is not None:
                related.append(work_pool_related(pool))
        for column, kind, role in (
            ("storage_document_id", "prefect.block-document", "storage"),
            ("infrastructure_document_id", "prefect.block-document", "infrastructure"),
            ("concurrency_limit_id", "prefect.concurrency-limit", "concurrency-limit"),
        ):
            if deployment[column] is not None:
                related.append({"prefect.resource.id": f"{kind}.{deployment[column]}", "prefect.resource.role": role})
        events.append(deployment_status_event(deployment, status, related, occurred))
    return events


async def record_status_events(connection: AsyncConnection, events: list[Event]) -> list[Event]:
    """Store `events` in the caller's transaction; returns them."""
    await write_events(connection, events)
    return events

"""What the Automations pages show besides the automations themselves: the names of the objects their triggers and
actions name, and the objects the create and edit form offers in its pickers."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t

Row = dict[str, Any]
# The tables whose objects an automation names by id, with the column that names each.
NAMED_TABLES = (t.flow, t.deployment, t.work_pool, t.work_queue, t.automation, t.block_document)


def _uuids(values: Collection[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


async def read_object_names(connection: AsyncConnection, ids: Collection[str]) -> dict[str, str]:
    """id text -> name for the flows, deployments (flow/deployment), work pools, work queues, automations and block
    documents among `ids`; ids that name nothing are left out."""
    wanted = _uuids(ids)
    if not wanted:
        return {}
    names: dict[str, str] = {}
    for table in NAMED_TABLES:
        if table is t.deployment:
            query = (
                sa.select(table.c.id, (t.flow.c.name + "/" + table.c.name).label("name"))
                .join(t.flow, t.flow.c.id == table.c.flow_id)
                .where(table.c.id.in_(wanted))
            )
        else:
            query = sa.select(table.c.id, table.c.name).where(table.c.id.in_(wanted))
        for row in (await connection.execute(query)).all():
            names[str(row[0])] = str(row[1])
    return names


async def read_form_choices(
    connection: AsyncConnection, notification_slugs: Collection[str], webhook_slugs: Collection[str], limit: int
) -> dict[str, list[Row]]:
    """The objects the automation form offers, each list by name and at most `limit` long: flows, deployments
    ({id, name} with name flow/deployment), work pools, work queues ({id, name, work_pool_id, work_pool_name}),
    automations, notification blocks and webhook blocks ({id, name, type_name})."""

    async def rows(query: sa.Select[Any]) -> list[Row]:
        return [dict(row) for row in (await connection.execute(query.limit(limit))).mappings()]

    deployment_name = (t.flow.c.name + "/" + t.deployment.c.name).label("name")
    return {
        "flows": await rows(sa.select(t.flow.c.id, t.flow.c.name).order_by(t.flow.c.name)),
        "deployments": await rows(
            sa.select(t.deployment.c.id, deployment_name)
            .join(t.flow, t.flow.c.id == t.deployment.c.flow_id)
            .order_by(t.flow.c.name, t.deployment.c.name)
        ),
        "work_pools": await rows(sa.select(t.work_pool.c.id, t.work_pool.c.name).order_by(t.work_pool.c.name)),
        "work_queues": await rows(
            sa.select(
                t.work_queue.c.id,
                t.work_queue.c.name,
                t.work_queue.c.work_pool_id,
                t.work_pool.c.name.label("work_pool_name"),
            )
            .join(t.work_pool, t.work_pool.c.id == t.work_queue.c.work_pool_id)
            .order_by(t.work_pool.c.name, t.work_queue.c.name)
        ),
        "automations": await rows(sa.select(t.automation.c.id, t.automation.c.name).order_by(t.automation.c.name)),
        "notification_blocks": await rows(_documents_of(notification_slugs)),
        "webhook_blocks": await rows(_documents_of(webhook_slugs)),
    }


def _documents_of(slugs: Collection[str]) -> sa.Select[Any]:
    document, block_type = t.block_document, t.block_type
    return (
        sa.select(document.c.id, document.c.name, block_type.c.name.label("type_name"))
        .join(block_type, block_type.c.id == document.c.block_type_id)
        .where(block_type.c.slug.in_(list(slugs)), document.c.is_anonymous.is_(sa.false()))
        .order_by(document.c.name)
    )


async def read_owner_resource(connection: AsyncConnection, automation_id: uuid.UUID) -> str | None:
    """The resource that owns the automation (prefect.deployment.<id> for a deployment's trigger), or None."""
    related = t.automation_related_resource.c
    query = (
        sa.select(related.resource_id)
        .where(related.automation_id == automation_id, related.automation_owned_by_resource.is_(True))
        .order_by(related.resource_id)
        .limit(1)
    )
    return (await connection.execute(query)).scalar_one_or_none()

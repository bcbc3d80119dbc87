"""What the Notifications page shows: policies with their target block, recent deliveries, and the notification
block types and documents a policy can target."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t

Row = dict[str, Any]
policy = t.notification_policy
delivery = t.notification_delivery
document = t.block_document
block_type = t.block_type


async def read_policies_with_targets(connection: AsyncConnection, limit: int, offset: int = 0) -> list[Row]:
    """Policies, oldest first, each with `target`: {id, name, type_name, type_slug}, or None when it was deleted."""
    query = (
        sa.select(
            policy,
            document.c.name.label("target_name"),
            block_type.c.name.label("target_type_name"),
            block_type.c.slug.label("target_type_slug"),
        )
        .select_from(
            policy.outerjoin(document, document.c.id == policy.c.block_document_id).outerjoin(
                block_type, block_type.c.id == document.c.block_type_id
            )
        )
        .order_by(policy.c.created, policy.c.id)
        .limit(limit)
        .offset(offset)
    )
    rows = []
    for found in (await connection.execute(query)).mappings():
        row = {key: value for key, value in found.items() if not key.startswith("target_")}
        row["target"] = (
            {
                "id": found["block_document_id"],
                "name": found["target_name"],
                "type_name": found["target_type_name"],
                "type_slug": found["target_type_slug"],
            }
            if found["target_name"] is not None
            else None
        )
        rows.append(row)
    return rows


async def count_policies(connection: AsyncConnection) -> int:
    return int(await connection.scalar(sa.select(sa.func.count()).select_from(policy)) or 0)


async def read_recent_deliveries(
    connection: AsyncConnection, limit: int, *, policy_id: uuid.UUID | None = None
) -> list[Row]:
    """The deliveries changed most recently (newest attempt first), with their run's name and state's name.

    Ordered by `updated`, which is indexed, rather than `created`, which is not: a delivery's last change is its
    latest attempt, which is what a reader of "recent deliveries" wants first anyway.
    """
    run, state = t.flow_run, t.flow_run_state
    query = (
        sa.select(
            delivery,
            run.c.name.label("flow_run_name"),
            state.c.name.label("state_name"),
            state.c.type.label("state_type"),
        )
        .select_from(
            delivery.outerjoin(run, run.c.id == delivery.c.flow_run_id).outerjoin(
                state, state.c.id == delivery.c.flow_run_state_id
            )
        )
        .order_by(delivery.c.updated.desc(), delivery.c.id)
        .limit(limit)
    )
    if policy_id is not None:
        query = query.where(delivery.c.policy_id == policy_id)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_channel_types(connection: AsyncConnection, slugs: Collection[str]) -> list[Row]:
    """The block types among `slugs` with their newest schema: {id, name, slug, block_schema_id, fields}, by name."""
    query = (
        sa.select(
            block_type.c.id,
            block_type.c.name,
            block_type.c.slug,
            block_type.c.description,
            t.block_schema.c.id.label("block_schema_id"),
            t.block_schema.c.fields,
        )
        .join(t.block_schema, t.block_schema.c.block_type_id == block_type.c.id)
        .where(block_type.c.slug.in_(list(slugs)))
        .order_by(block_type.c.name, t.block_schema.c.created.desc(), t.block_schema.c.id)
    )
    newest: dict[str, Row] = {}
    for row in (await connection.execute(query)).mappings():
        newest.setdefault(row["slug"], dict(row))
    return list(newest.values())


async def read_channel_documents(connection: AsyncConnection, slugs: Collection[str], limit: int) -> list[Row]:
    """Named block documents of the types among `slugs`: {id, name, type_name, type_slug}, by type then name."""
    query = (
        sa.select(
            document.c.id,
            document.c.name,
            block_type.c.name.label("type_name"),
            block_type.c.slug.label("type_slug"),
        )
        .join(block_type, block_type.c.id == document.c.block_type_id)
        .where(block_type.c.slug.in_(list(slugs)), document.c.is_anonymous.is_(sa.false()))
        .order_by(block_type.c.name, document.c.name)
        .limit(limit)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]

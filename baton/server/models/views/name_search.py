"""The search box's reads: flows, deployments, flow runs and named blocks whose names contain some text.

Each kind is one query with a small limit; on PostgreSQL the names' trigram indexes serve the ILIKE.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.filters.core import contains_text


async def _matches(connection: AsyncConnection, query: sa.Select[Any], limit: int) -> list[dict[str, Any]]:
    return [dict(row) for row in (await connection.execute(query.limit(limit))).mappings()]


async def read_flows_named(connection: AsyncConnection, text: str, limit: int) -> list[dict[str, Any]]:
    """Flows whose names contain `text` (case-insensitively), by name: id and name."""
    flow = t.flow.c
    query = sa.select(flow.id, flow.name).where(contains_text(flow.name, text)).order_by(flow.name, flow.id)
    return await _matches(connection, query, limit)


async def read_deployments_named(connection: AsyncConnection, text: str, limit: int) -> list[dict[str, Any]]:
    """Deployments whose names contain `text`, by name: id, name and their flow's name."""
    deployment = t.deployment.c
    query = (
        sa.select(deployment.id, deployment.name, t.flow.c.name.label("flow_name"))
        .join(t.flow, t.flow.c.id == deployment.flow_id)
        .where(contains_text(deployment.name, text))
        .order_by(deployment.name, deployment.id)
    )
    return await _matches(connection, query, limit)


async def read_flow_runs_named(connection: AsyncConnection, text: str, limit: int) -> list[dict[str, Any]]:
    """Flow runs whose names contain `text`, newest first: id, name, state and their flow's name."""
    run = t.flow_run.c
    query = (
        sa.select(run.id, run.name, run.state_type, run.state_name, t.flow.c.name.label("flow_name"))
        .join(t.flow, t.flow.c.id == run.flow_id)
        .where(contains_text(run.name, text))
        .order_by(run.created.desc(), run.id)
    )
    return await _matches(connection, query, limit)


async def read_blocks_named(connection: AsyncConnection, text: str, limit: int) -> list[dict[str, Any]]:
    """Named (not anonymous) block documents whose names contain `text`, by name: id, name and block type name.
    Never their data."""
    document = t.block_document.c
    query = (
        sa.select(document.id, document.name, t.block_type.c.name.label("block_type_name"))
        .join(t.block_type, t.block_type.c.id == document.block_type_id)
        .where(document.is_anonymous.is_(sa.false()), contains_text(document.name, text))
        .order_by(document.name, document.id)
    )
    return await _matches(connection, query, limit)

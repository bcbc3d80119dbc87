"""Data access for flows."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.filters import core as filters
from baton.server.schemas.actions import FlowCreate, FlowUpdate
from baton.server.schemas.filters import FlowFilter
from baton.server.schemas.requests import FlowFilterSet, FlowPaginateRequest
from baton.server.schemas.sorting import FlowSort


async def create_flow(connection: AsyncConnection, flow: FlowCreate) -> tuple[dict[str, Any], bool]:
    """Insert the flow, or return the existing one of that name; the flag says whether it was created."""
    now = utcnow()
    insert = (
        dialect_of(connection)
        .insert(t.flow)
        .values(id=uuid.uuid4(), created=now, updated=now, name=flow.name, tags=flow.tags, labels=flow.labels or {})
        .on_conflict_do_nothing(index_elements=["name"])
    )
    result = await connection.execute(insert)
    row = await read_flow_by_name(connection, flow.name)
    assert row is not None
    return row, result.rowcount == 1


async def read_flow(connection: AsyncConnection, flow_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.flow).where(t.flow.c.id == flow_id))).mappings().first()
    return dict(row) if row else None


async def read_flow_by_name(connection: AsyncConnection, name: str) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.flow).where(t.flow.c.name == name))).mappings().first()
    return dict(row) if row else None


async def read_flows(
    connection: AsyncConnection,
    condition: sa.ColumnElement[bool],
    order_by: list[Any],
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    query = sa.select(t.flow).where(condition).order_by(*order_by).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_flows(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(t.flow).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def filter_flows(
    connection: AsyncConnection, request: FlowFilterSet, sort: FlowSort, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The flows matching the filters of `request`, in `sort` order, `limit` of them from `offset`."""
    condition = filters.flow_condition(request, dialect_of(connection))
    return await read_flows(connection, condition, filters.flow_order_by(sort), limit, offset)


async def count_flows_matching(connection: AsyncConnection, request: FlowFilterSet) -> int:
    """How many flows match the filters of `request`."""
    return await count_flows(connection, filters.flow_condition(request, dialect_of(connection)))


async def paginate_flows(
    connection: AsyncConnection, request: FlowPaginateRequest, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Page `request.page` (of `limit` flows) of the flows matching `request`, and how many match in all."""
    condition = filters.flow_condition(request, dialect_of(connection))
    count = await count_flows(connection, condition)
    order_by = filters.flow_order_by(request.sort)
    return await read_flows(connection, condition, order_by, limit, (request.page - 1) * limit), count


async def update_flow(connection: AsyncConnection, flow_id: uuid.UUID, update: FlowUpdate) -> bool:
    """Apply the fields set in `update`; False when there is no such flow."""
    values = update.model_dump(exclude_unset=True)
    result = await connection.execute(
        sa.update(t.flow).where(t.flow.c.id == flow_id).values(updated=utcnow(), **values)
    )
    return result.rowcount == 1


async def delete_flow(connection: AsyncConnection, flow_id: uuid.UUID) -> bool:
    """Delete the flow with its runs (and their states and logs); False when there is no such flow."""
    run_ids = sa.select(t.flow_run.c.id).where(t.flow_run.c.flow_id == flow_id)
    await connection.execute(sa.delete(t.log).where(t.log.c.flow_run_id.in_(run_ids)))
    result = await connection.execute(sa.delete(t.flow).where(t.flow.c.id == flow_id))
    return result.rowcount == 1


async def delete_flows(connection: AsyncConnection, flow_filter: FlowFilter | None, limit: int) -> list[uuid.UUID]:
    """Delete the first `limit` flows (by name) matching `flow_filter`, each as `delete_flow` does; their ids."""
    condition = filters.flow_condition(FlowFilterSet(flows=flow_filter), dialect_of(connection))
    query = sa.select(t.flow.c.id).where(condition).order_by(*filters.flow_order_by(FlowSort.NAME_ASC)).limit(limit)
    flow_ids = list((await connection.execute(query)).scalars())
    for flow_id in flow_ids:
        await delete_flow(connection, flow_id)
    return flow_ids

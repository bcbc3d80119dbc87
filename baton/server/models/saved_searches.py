"""Data access for saved searches: create or replace by name, read, list by name, delete."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.schemas.saved_searches import SavedSearchCreate


async def create_saved_search(connection: AsyncConnection, search: SavedSearchCreate) -> tuple[dict[str, Any], bool]:
    """Insert the search, or replace the filters of the one of that name (it keeps its id); the row and whether it
    was created."""
    now = utcnow()
    filters = [item.model_dump(mode="json") for item in search.filters]
    insert = dialect_of(connection).insert(t.saved_search)
    created = await connection.execute(
        insert.values(
            id=uuid.uuid4(), created=now, updated=now, name=search.name, filters=filters
        ).on_conflict_do_nothing(index_elements=["name"])
    )
    if created.rowcount != 1:
        await connection.execute(
            sa.update(t.saved_search).where(t.saved_search.c.name == search.name).values(filters=filters, updated=now)
        )
    row = (await connection.execute(sa.select(t.saved_search).where(t.saved_search.c.name == search.name))).mappings()
    return dict(row.one()), created.rowcount == 1


async def read_saved_search(connection: AsyncConnection, saved_search_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        (await connection.execute(sa.select(t.saved_search).where(t.saved_search.c.id == saved_search_id)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def read_saved_searches(connection: AsyncConnection, limit: int, offset: int) -> list[dict[str, Any]]:
    """Saved searches in name order, `limit` of them from `offset`."""
    query = sa.select(t.saved_search).order_by(t.saved_search.c.name, t.saved_search.c.id).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def delete_saved_search(connection: AsyncConnection, saved_search_id: uuid.UUID) -> bool:
    """Delete the search; False when there is none."""
    result = await connection.execute(sa.delete(t.saved_search).where(t.saved_search.c.id == saved_search_id))
    return result.rowcount == 1

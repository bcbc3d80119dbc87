"""Data access for block types."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.filters.blocks import block_type_request_condition
from baton.server.schemas.block_filters import BlockTypeFilterRequest
from baton.server.schemas.blocks import BlockTypeCreate

# The fields of a block type that an update may change (name and slug identify it; protection is the server's).
UPDATABLE_FIELDS = ("logo_url", "documentation_url", "description", "code_example")


async def create_block_type(
    connection: AsyncConnection, block_type: BlockTypeCreate, *, is_protected: bool = False
) -> dict[str, Any]:
    """Insert the block type; raises ObjectAlreadyExists when its slug is taken."""
    now = utcnow()
    insert = (
        dialect_of(connection)
        .insert(t.block_type)
        .values(id=uuid.uuid4(), created=now, updated=now, is_protected=is_protected, **block_type.model_dump())
        .on_conflict_do_nothing(index_elements=["slug"])
    )
    if (await connection.execute(insert)).rowcount != 1:
        raise ObjectAlreadyExists(f'Block type with slug "{block_type.slug}" already exists.')
    row = await read_block_type_by_slug(connection, block_type.slug)
    assert row is not None
    return row


async def read_block_type(connection: AsyncConnection, block_type_id: uuid.UUID) -> dict[str, Any] | None:
    query = sa.select(t.block_type).where(t.block_type.c.id == block_type_id)
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def read_block_type_by_slug(connection: AsyncConnection, slug: str) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.block_type).where(t.block_type.c.slug == slug))).mappings().first()
    return dict(row) if row else None


async def read_block_types(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], limit: int, offset: int
) -> list[dict[str, Any]]:
    """Block types matching `condition`, by name."""
    query = (
        sa.select(t.block_type)
        .where(condition)
        .order_by(t.block_type.c.name, t.block_type.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def update_block_type(connection: AsyncConnection, block_type_id: uuid.UUID, values: dict[str, Any]) -> bool:
    """Apply `values` (a subset of UPDATABLE_FIELDS and `is_protected`) where they differ from the stored ones.

    Returns False when there is no such block type. Writes nothing when nothing differs, so that clients that
    re-register their block types on every save do not contend for the row.
    """
    current = await read_block_type(connection, block_type_id)
    if current is None:
        return False
    changed = {name: value for name, value in values.items() if current[name] != value}
    if changed:
        await connection.execute(
            sa.update(t.block_type).where(t.block_type.c.id == block_type_id).values(updated=utcnow(), **changed)
        )
    return True


async def delete_block_type(connection: AsyncConnection, block_type_id: uuid.UUID) -> bool:
    """Delete the block type with its schemas and documents; False when there is no such block type."""
    result = await connection.execute(sa.delete(t.block_type).where(t.block_type.c.id == block_type_id))
    return result.rowcount == 1


# Block schemas and documents are read joined with their block type, whose columns carry this prefix.
_TYPE_PREFIX = "block_type__"


async def filter_block_types(
    connection: AsyncConnection, request: BlockTypeFilterRequest, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The block types matching the filters of `request` (every type for an empty one), by name."""
    condition = block_type_request_condition(request, dialect_of(connection))
    return await read_block_types(connection, condition, limit, offset)


def select_with_block_type(table: sa.Table) -> sa.Select[Any]:
    """SELECT of `table` (block_schema or block_document) joined with its block type; see `split_block_type`."""
    type_columns = [column.label(_TYPE_PREFIX + column.name) for column in t.block_type.c]
    return sa.select(table, *type_columns).join(t.block_type, t.block_type.c.id == table.c.block_type_id)


def split_block_type(row: Any) -> dict[str, Any]:
    """A row of `select_with_block_type` as the object with its block type nested under "block_type"."""
    item: dict[str, Any] = {}
    block_type: dict[str, Any] = {}
    for key, value in row.items():
        if key.startswith(_TYPE_PREFIX):
            block_type[key.removeprefix(_TYPE_PREFIX)] = value
        else:
            item[key] = value
    item["block_type"] = block_type
    return item

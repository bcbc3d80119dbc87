"""Light reads of blocks for listing pages: documents without their (encrypted) data, counts per block type, and
the newest schema of a type.

Listing never decrypts: a page of fifty documents costs one indexed query, however large their data is.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.blocks import block_schemas
from baton.server.models.filters.core import contains_text

Condition = sa.ColumnElement[bool]


def named_documents_condition(block_type_slug: str | None = None, name_contains: str | None = None) -> Condition:
    """Named (not anonymous) documents, of the block type with that slug and with names containing `name_contains`
    (case-insensitively) when those are given."""
    column = t.block_document.c
    condition: Condition = column.is_anonymous.is_(sa.false())
    if name_contains:
        condition = sa.and_(condition, contains_text(column.name, name_contains))
    if block_type_slug:
        type_ids = sa.select(t.block_type.c.id).where(t.block_type.c.slug == block_type_slug).correlate(None)
        condition = sa.and_(condition, column.block_type_id.in_(type_ids))
    return condition


async def read_block_document_summaries(
    connection: AsyncConnection, condition: Condition, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Documents matching `condition` by block type name then name: id, name, created, updated and their block
    type's id, name, slug and logo, never their data."""
    document = t.block_document.c
    block_type = t.block_type.c
    query = (
        sa.select(
            document.id,
            document.name,
            document.created,
            document.updated,
            document.block_type_id,
            block_type.name.label("block_type_name"),
            block_type.slug.label("block_type_slug"),
            block_type.logo_url.label("block_type_logo_url"),
        )
        .join(t.block_type, block_type.id == document.block_type_id)
        .where(condition)
        .order_by(block_type.name, document.name, document.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_block_document_summaries(connection: AsyncConnection, condition: Condition) -> int:
    query = sa.select(sa.func.count()).select_from(t.block_document).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def read_named_document_summaries(
    connection: AsyncConnection, block_type_slug: str | None, name_contains: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Summaries (see `read_block_document_summaries`) of the named documents of `named_documents_condition`."""
    condition = named_documents_condition(block_type_slug, name_contains)
    return await read_block_document_summaries(connection, condition, limit, offset)


async def count_named_documents(
    connection: AsyncConnection, block_type_slug: str | None, name_contains: str | None
) -> int:
    """How many named documents `named_documents_condition` selects."""
    return await count_block_document_summaries(connection, named_documents_condition(block_type_slug, name_contains))


async def count_named_documents_by_block_type(connection: AsyncConnection) -> dict[uuid.UUID, int]:
    """Block type id -> how many named documents it has (types without any are absent)."""
    column = t.block_document.c
    query = (
        sa.select(column.block_type_id, sa.func.count())
        .where(column.is_anonymous.is_(sa.false()))
        .group_by(column.block_type_id)
    )
    return {type_id: int(count) for type_id, count in (await connection.execute(query)).all()}


async def read_newest_block_schema(connection: AsyncConnection, block_type_id: uuid.UUID) -> dict[str, Any] | None:
    """The most recently registered schema of the block type (what a new document is written against), or None."""
    found = await block_schemas.read_block_schemas(connection, t.block_schema.c.block_type_id == block_type_id, 1, 0)
    return found[0] if found else None

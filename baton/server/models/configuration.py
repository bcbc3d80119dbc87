"""Data access for the `configuration` table: server-wide values by key (the block encryption key, markers)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow


async def read_configuration(connection: AsyncConnection, key: str) -> dict[str, Any] | None:
    """The value stored under `key`, or None."""
    query = sa.select(t.configuration.c.value).where(t.configuration.c.key == key)
    return (await connection.execute(query)).scalar_one_or_none()


async def create_configuration(connection: AsyncConnection, key: str, value: dict[str, Any]) -> dict[str, Any]:
    """Store `value` under `key` unless a value is there already; returns the value stored, whichever won."""
    now = utcnow()
    await connection.execute(
        dialect_of(connection)
        .insert(t.configuration)
        .values(id=uuid.uuid4(), created=now, updated=now, key=key, value=value)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    stored = await read_configuration(connection, key)
    assert stored is not None
    return stored


async def write_configuration(connection: AsyncConnection, key: str, value: dict[str, Any]) -> None:
    """Store `value` under `key`, replacing any value there."""
    now = utcnow()
    insert = dialect_of(connection).insert(t.configuration)
    await connection.execute(
        insert.values(id=uuid.uuid4(), created=now, updated=now, key=key, value=value).on_conflict_do_update(
            index_elements=["key"], set_={"value": insert.excluded.value, "updated": now}
        )
    )

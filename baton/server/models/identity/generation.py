"""The credentials generation: one counter, bumped by every change that can take a permission away, which each
server process polls to know when to drop its cached keys, sessions and roles."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of


async def bump_generation(connection: AsyncConnection) -> None:
    insert = dialect_of(connection).insert(t.auth_generation).values(id=1, generation=1)
    column = t.auth_generation.c.generation
    await connection.execute(insert.on_conflict_do_update(index_elements=["id"], set_={"generation": column + 1}))


async def read_generation(connection: AsyncConnection) -> int:
    query = sa.select(t.auth_generation.c.generation).where(t.auth_generation.c.id == 1)
    return int((await connection.execute(query)).scalar_one_or_none() or 0)

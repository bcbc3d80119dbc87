"""Several server processes starting at once on a fresh database all install the built-in block types."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from baton.server.blocks import register_system_blocks
from baton.server.blocks.system import SYSTEM_BLOCKS
from baton.server.database import tables as t
from baton.server.database.engine import Database


async def test_processes_starting_together_install_the_block_types_once(database_url: str) -> None:
    # One engine each, as separate processes have: on PostgreSQL their transactions run side by side.
    databases = [Database(database_url) for _ in range(3)]
    try:
        outcomes = await asyncio.gather(*(register_system_blocks(database) for database in databases))
        assert any(outcomes)
        async with databases[0].read() as connection:
            slugs = (await connection.execute(sa.select(t.block_type.c.slug))).scalars().all()
            schemas = await connection.scalar(sa.select(sa.func.count()).select_from(t.block_schema))
        assert sorted(slugs) == sorted(block.slug for block in SYSTEM_BLOCKS)
        assert schemas == len(SYSTEM_BLOCKS)
    finally:
        for database in databases:
            await database.dispose()

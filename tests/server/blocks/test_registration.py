"""Installing the built-in blocks from several server processes at once, as API replicas do when they start
together on a new database."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from baton.server.blocks import register_system_blocks
from baton.server.blocks.system import SYSTEM_BLOCKS
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.blocks import block_types
from baton.server.schemas.blocks import BlockTypeCreate
from tests.racing_servers import separate_databases, wait_until_a_query_waits_for_a_lock

# SQLite has one writer at a time, so registrations there never overlap: the race is PostgreSQL's.
ONE_DATABASE = "postgresql"
WAIT_SECONDS = 30.0


async def test_a_registration_that_finds_a_type_committed_meanwhile_completes(database_url: str) -> None:
    async with separate_databases(database_url, 3) as (first, second, observer):
        # The first server's transaction holds a new block type uncommitted while the second server registers: that
        # one reads no such type, and its insert waits for the first server's commit, then finds the slug taken.
        # It used to fail the server's start with 'Block type with slug "..." already exists'.
        block = SYSTEM_BLOCKS[0]
        async with first.write() as connection:
            await block_types.create_block_type(
                connection, BlockTypeCreate(name=block.name, slug=block.slug), is_protected=True
            )
            late = asyncio.create_task(register_system_blocks(second))
            await wait_until_a_query_waits_for_a_lock(observer)
        assert await asyncio.wait_for(late, WAIT_SECONDS) is True
        async with observer.read() as connection:
            for each in SYSTEM_BLOCKS:
                assert await block_types.read_block_type_by_slug(connection, each.slug) is not None
            installed = await block_types.read_block_type_by_slug(connection, block.slug)
        # The type the first server made is the one kept, brought up to date by the second.
        assert installed is not None and installed["description"] == block.description
        assert await register_system_blocks(first) is False


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

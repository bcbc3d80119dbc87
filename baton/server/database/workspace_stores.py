"""The life of a workspace's store: made at the head revision when the workspace is created, removed whole when it is
deleted. What a store is (a schema, a database file) is the dialect's business (`DatabaseDialect.workspace_store`)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from baton.server.database.engine import Database
from baton.server.database.tables import WORKSPACE_TABLES, metadata

# Alembic's own version table, made here so that a new store is stamped without importing Alembic.
_version_metadata = sa.MetaData()
alembic_version = sa.Table(
    "alembic_version",
    _version_metadata,
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


async def create_workspace_store(database: Database, workspace_id: uuid.UUID) -> Database:
    """Make the store of workspace `workspace_id` with every workspace table, stamped at the head revision; returns
    the workspace's unit of work. `database` is the main one."""
    from baton.migrations import HEAD_REVISION

    workspace_database = database.for_workspace(workspace_id)
    assert workspace_database.store is not None
    statements = database.dialect.create_store_statements(workspace_database.store)
    if statements:
        async with database.write() as connection:
            for statement in statements:
                await connection.exec_driver_sql(statement)
    await workspace_database.open()

    def create(connection: sa.Connection) -> None:
        # checkfirst=False: the existence check reflects the default schema, where the main tables are.
        metadata.create_all(connection, tables=list(WORKSPACE_TABLES), checkfirst=False)
        alembic_version.create(connection, checkfirst=False)
        connection.execute(alembic_version.insert().values(version_num=HEAD_REVISION))

    async with workspace_database.write() as connection:
        await connection.run_sync(create)
    return workspace_database


async def drop_workspace_store(database: Database, workspace_id: uuid.UUID) -> None:
    """Remove the store of workspace `workspace_id` and everything in it; the main database is untouched otherwise."""
    store = database.for_workspace(workspace_id).store
    assert store is not None
    await database.forget_workspace(workspace_id)
    statements = database.dialect.drop_store_statements(store)
    if statements:
        async with database.write() as connection:
            for statement in statements:
                await connection.exec_driver_sql(statement)
    database.dialect.remove_store_files(store)


async def read_workspace_ids(database: Database) -> list[uuid.UUID]:
    """The ids of every workspace but the default one (none before the workspace table exists)."""
    from baton.server.models.workspaces import read_workspace_ids as read_ids

    async with database.read() as connection:
        exists = await connection.run_sync(lambda sync: sa.inspect(sync).has_table("workspace"))
        if not exists:
            return []
        return await read_ids(connection)

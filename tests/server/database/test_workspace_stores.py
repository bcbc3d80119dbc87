"""Workspace stores: each workspace's tables are reachable through its own unit of work only, whatever SQL runs on
it; a store is made at the head revision, migrated with the main schema, and removed whole."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from baton.migrations import HEAD_REVISION
from baton.server.database import migrate
from baton.server.database import tables as t
from baton.server.database.dialects.base import OnConflict
from baton.server.database.engine import Database
from baton.server.database.workspace_stores import create_workspace_store, drop_workspace_store, read_workspace_ids
from baton.server.models.runs.flows import create_flow
from baton.server.schemas.actions import FlowCreate


async def add_workspace_row(database: Database, name: str) -> uuid.UUID:
    workspace_id = uuid.uuid4()
    async with database.write() as connection:
        await connection.execute(t.workspace.insert().values(id=workspace_id, account_id=uuid.uuid4(), name=name))
    await create_workspace_store(database, workspace_id)
    return workspace_id


async def database_tables(database: Database) -> set[str]:
    async with database.read() as connection:
        return set(await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names(database.store_schema)))


async def flow_names(database: Database) -> set[str]:
    async with database.read() as connection:
        return set((await connection.execute(sa.select(t.flow.c.name))).scalars())


async def add_flow(database: Database, name: str) -> None:
    async with database.write() as connection:
        await create_flow(connection, FlowCreate(name=name))


async def test_each_workspace_sees_only_its_own_rows(database: Database) -> None:
    a = await add_workspace_row(database, "a")
    b = await add_workspace_row(database, "b")
    await add_flow(database, "default-flow")
    await add_flow(database.for_workspace(a), "same-name")
    await add_flow(database.for_workspace(b), "same-name")
    await add_flow(database.for_workspace(b), "b-only")

    assert await flow_names(database) == {"default-flow"}
    assert await flow_names(database.for_workspace(a)) == {"same-name"}
    assert await flow_names(database.for_workspace(b)) == {"same-name", "b-only"}
    assert database.for_workspace(a) is database.for_workspace(a)
    assert database.for_workspace(None) is database


async def test_raw_sql_on_a_workspace_reaches_no_global_or_default_table(database: Database) -> None:
    a = await add_workspace_row(database, "a")
    await add_flow(database, "default-flow")
    async with database.for_workspace(a).read() as connection:
        # The translated statement names the workspace's own table; the global tables do not exist there.
        assert (await connection.execute(sa.select(sa.func.count()).select_from(t.flow))).scalar_one() == 0
        with pytest.raises(sa_exc.DBAPIError):
            await connection.execute(sa.select(t.account.c.id))


async def test_a_store_is_made_at_head_and_upgrade_walks_every_store(database: Database) -> None:
    a = await add_workspace_row(database, "a")
    async with database.for_workspace(a).read() as connection:
        version = sa.table("alembic_version", sa.column("version_num"))
        assert (await connection.execute(sa.select(version.c.version_num))).scalar_one() == HEAD_REVISION
    await migrate.upgrade(database)
    assert await read_workspace_ids(database) == [a]
    await migrate.downgrade(database, "0014")
    assert "workspace" not in await database_tables(database)
    # The store is left as it was, at the head revision.
    assert "flow" in await database_tables(database.for_workspace(a))


async def test_dropping_a_store_removes_its_data_and_nothing_else(database: Database) -> None:
    a = await add_workspace_row(database, "a")
    b = await add_workspace_row(database, "b")
    await add_flow(database, "default-flow")
    await add_flow(database.for_workspace(a), "a-flow")
    await add_flow(database.for_workspace(b), "b-flow")
    store = database.for_workspace(a).store
    assert store is not None

    await drop_workspace_store(database, a)

    assert await flow_names(database) == {"default-flow"}
    assert await flow_names(database.for_workspace(b)) == {"b-flow"}
    if store.schema is not None:
        async with database.read() as connection:
            schemas = set(await connection.run_sync(lambda sync: sa.inspect(sync).get_schema_names()))
        assert store.schema not in schemas
    else:
        assert not await asyncio.to_thread(Path(store.url.database or "").exists)


async def test_the_dialects_own_text_statements_write_into_the_workspace(database: Database) -> None:
    a = await add_workspace_row(database, "a")
    workspace = database.for_workspace(a)
    now = dt.datetime.now(dt.UTC)
    row = {"id": uuid.uuid4(), "created": now, "updated": now, "name": "fast-path", "value": 1, "tags": []}
    async with workspace.write() as connection:
        await workspace.dialect.insert_rows(connection, t.variable, [row], OnConflict())
    event = {
        "id": str(uuid.uuid4()),
        "occurred": now.isoformat(),
        "received": now.isoformat(),
        "event": "a.happened",
        "resource": {"prefect.resource.id": "a.thing"},
        "related": [],
        "payload": {},
    }
    await workspace.dialect.record_event_batch(workspace, [event])

    for unit, expected in ((workspace, 1), (database, 0)):
        async with unit.read() as connection:
            variables = (await connection.execute(sa.select(sa.func.count()).select_from(t.variable))).scalar_one()
            events = (await connection.execute(sa.select(sa.func.count()).select_from(t.events))).scalar_one()
        assert (variables, events) == (expected, expected)


async def test_a_workspace_transaction_moves_the_search_path_only_for_its_text_statements(database: Database) -> None:
    """The hand-written statements find the workspace's tables; a transaction without one sends no extra statement."""
    if database.dialect.name != "postgresql":
        pytest.skip("a SQLite store is a file of its own: there is no search path")
    workspace = database.for_workspace(await add_workspace_row(database, "paths"))
    await add_flow(workspace, "only-in-the-workspace")
    async with workspace.read() as connection:
        assert (await connection.execute(sa.select(sa.func.count()).select_from(t.flow))).scalar_one() == 1
        untouched = (await connection.exec_driver_sql("SHOW search_path")).scalar_one()
        assert (await connection.execute(sa.text("SELECT count(*) FROM flow"))).scalar_one() == 1
        moved = (await connection.exec_driver_sql("SHOW search_path")).scalar_one()
    assert workspace.store_schema not in untouched
    assert moved.startswith(f"{workspace.store_schema}") or moved.startswith(f'"{workspace.store_schema}"'), moved
    async with database.read() as connection:
        assert (await connection.exec_driver_sql("SHOW search_path")).scalar_one() == untouched
        assert (await connection.execute(sa.text("SELECT count(*) FROM flow"))).scalar_one() == 0

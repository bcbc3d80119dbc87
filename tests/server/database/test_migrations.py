"""Migrations on SQLite and PostgreSQL: one head, a full round trip with data present, no drift, reset."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from baton.errors import MigrationError
from baton.migrations import HEAD_REVISION
from baton.server.database import migrate
from baton.server.database.engine import Database
from baton.server.database.tables import metadata
from baton.server.database.types import JSONType, Timestamp


def sample_value(column: sa.Column[Any], inserted: dict[str, uuid.UUID]) -> Any:
    """A valid value for `column`, pointing foreign keys at rows inserted earlier."""
    for foreign_key in column.foreign_keys:
        return inserted[foreign_key.column.table.name]
    column_type = column.type
    if isinstance(column_type, sa.Uuid):
        return uuid.uuid4()
    if isinstance(column_type, Timestamp):
        return dt.datetime.now(dt.UTC)
    if isinstance(column_type, JSONType):
        return {"sample": True}
    if isinstance(column_type, sa.Boolean):
        return True
    if isinstance(column_type, sa.Integer):
        return 1
    if isinstance(column_type, sa.Float):
        return 1.5
    return f"sample-{column.name}"


async def insert_row_in_every_table(database: Database) -> dict[str, uuid.UUID]:
    inserted: dict[str, uuid.UUID] = {}
    async with database.write() as connection:
        for table in metadata.sorted_tables:
            row = {column.name: sample_value(column, inserted) for column in table.columns}
            await connection.execute(table.insert().values(**row))
            if "id" in row:  # a table keyed by other columns (automation_counted_event) is never referred to
                inserted[table.name] = row["id"]
    return inserted


async def count_rows(database: Database) -> dict[str, int]:
    async with database.read() as connection:
        return {
            table.name: (await connection.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            for table in metadata.sorted_tables
        }


async def table_names(database: Database) -> set[str]:
    async with database.read() as connection:
        return set(await connection.run_sync(lambda conn: sa.inspect(conn).get_table_names()))


def test_there_is_exactly_one_head() -> None:
    heads = [revision for revision in migrate.history() if revision.is_head]
    assert len(heads) == 1
    assert migrate.head_revision() == heads[0].revision
    assert len(migrate.history()) >= 4
    assert HEAD_REVISION == migrate.head_revision()


@pytest.fixture
async def empty_database(empty_database_url: str) -> Any:
    database = Database(empty_database_url)
    await database.open()
    yield database
    await database.dispose()


async def test_round_trip_with_data_in_every_table(empty_database: Database) -> None:
    database = empty_database
    assert await migrate.current_revision(database) is None

    await migrate.upgrade(database)
    assert await migrate.current_revision(database) == migrate.head_revision()
    assert await migrate.schema_drift(database) == []

    await insert_row_in_every_table(database)
    assert set((await count_rows(database)).values()) == {1}

    await migrate.downgrade(database, "base")
    assert await migrate.current_revision(database) is None
    assert await table_names(database) <= {"alembic_version"}

    await migrate.upgrade(database)
    assert await migrate.current_revision(database) == migrate.head_revision()
    assert await migrate.schema_drift(database) == []
    await insert_row_in_every_table(database)
    assert set((await count_rows(database)).values()) == {1}


async def test_relative_and_named_targets(empty_database: Database) -> None:
    database = empty_database
    revisions = [revision.revision for revision in reversed(migrate.history())]  # oldest first
    await migrate.upgrade(database, revisions[1])
    assert await migrate.current_revision(database) == revisions[1]
    assert "flow" in await table_names(database)
    assert "flow_run" not in await table_names(database)

    await migrate.upgrade(database)
    await migrate.downgrade(database, "-1")
    assert await migrate.current_revision(database) == revisions[-2]
    await migrate.downgrade(database, revisions[0])
    assert await migrate.current_revision(database) == revisions[0]
    assert "flow" not in await table_names(database)


async def test_reset_leaves_an_empty_fully_migrated_database(database: Database) -> None:
    await insert_row_in_every_table(database)
    async with database.write() as connection:
        await connection.execute(sa.text("CREATE TABLE stray_table (x INTEGER)"))
    await migrate.reset(database)
    assert await migrate.current_revision(database) == migrate.head_revision()
    assert set((await count_rows(database)).values()) == {0}
    assert "stray_table" not in await table_names(database)
    assert await migrate.schema_drift(database) == []


async def test_unknown_revision_is_refused_with_advice(database: Database) -> None:
    async with database.write() as connection:
        await connection.execute(sa.text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    with pytest.raises(MigrationError, match="does not know.*newer Baton"):
        await migrate.upgrade(database)


async def test_downgrade_of_an_empty_database_is_refused(empty_database: Database) -> None:
    with pytest.raises(MigrationError, match="no Baton schema"):
        await migrate.downgrade(empty_database)


def test_dry_run_prints_sql_without_touching_the_database(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'never.db'}"
    sql = migrate.dry_run_sql(url, "upgrade", None, "head")
    assert "CREATE TABLE flow_run" in sql
    assert not (tmp_path / "never.db").exists()

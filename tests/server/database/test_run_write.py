"""`Database.run_write`: a unit of work that PostgreSQL aborts for a concurrent transaction (a serialization failure
under REPEATABLE READ) runs again and commits; other errors and spent attempts reach the caller."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ServiceUnavailable
from baton.server.database import engine
from baton.server.database import tables as t
from baton.server.database.engine import Database


@pytest.fixture
async def repeatable_read(database_url: str) -> AsyncIterator[Database]:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; no transaction is aborted for another")
    db = Database(database_url, isolation_level="REPEATABLE READ")
    await db.open()
    yield db
    await db.dispose()


async def _new_flow(db: Database) -> uuid.UUID:
    flow_id = uuid.uuid4()
    now = dt.datetime.now(dt.UTC)
    async with db.write() as connection:
        await connection.execute(
            sa.insert(t.flow).values(id=flow_id, created=now, updated=now, name=f"flow-{flow_id}", tags=[])
        )
    return flow_id


def _rename(flow_id: uuid.UUID, name: str) -> sa.Update:
    return sa.update(t.flow).where(t.flow.c.id == flow_id).values(name=name)


async def test_the_isolation_level_reaches_every_transaction(repeatable_read: Database) -> None:
    async with repeatable_read.write() as connection:
        level = (await connection.execute(sa.text("SHOW transaction_isolation"))).scalar()
    assert level == "repeatable read"


async def test_a_transaction_aborted_by_a_concurrent_update_runs_again_and_commits(
    repeatable_read: Database,
) -> None:
    flow_id = await _new_flow(repeatable_read)
    snapshot_taken, other_committed = asyncio.Event(), asyncio.Event()
    attempts: list[str] = []

    async def rename_after_the_other(connection: AsyncConnection) -> str:
        name = (await connection.execute(sa.select(t.flow.c.name).where(t.flow.c.id == flow_id))).scalar_one()
        attempts.append(name)
        snapshot_taken.set()
        await other_committed.wait()
        await connection.execute(_rename(flow_id, f"{name}+retried"))
        return name

    async def rename_concurrently() -> None:
        await snapshot_taken.wait()
        async with repeatable_read.write() as connection:
            await connection.execute(_rename(flow_id, "renamed"))
        other_committed.set()

    read, _ = await asyncio.gather(repeatable_read.run_write(rename_after_the_other), rename_concurrently())

    # The first attempt's snapshot predates the other rename, whose commit aborts it; the second sees it.
    assert attempts == [f"flow-{flow_id}", "renamed"]
    assert read == "renamed"
    async with repeatable_read.read() as connection:
        stored = (await connection.execute(sa.select(t.flow.c.name).where(t.flow.c.id == flow_id))).scalar_one()
    assert stored == "renamed+retried"


async def test_spent_attempts_and_other_errors_reach_the_caller(
    repeatable_read: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "CONFLICT_ATTEMPTS", 2)
    calls: list[int] = []

    async def always_aborted(connection: AsyncConnection) -> None:
        calls.append(1)
        await connection.execute(
            sa.text("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$")
        )

    with pytest.raises(ServiceUnavailable):
        await repeatable_read.run_write(always_aborted)
    assert len(calls) == 2

    async def refused(connection: AsyncConnection) -> None:
        calls.append(1)
        await connection.execute(sa.text("SELECT 1 / 0"))

    calls.clear()
    with pytest.raises(sa.exc.DBAPIError):
        await repeatable_read.run_write(refused)
    assert len(calls) == 1

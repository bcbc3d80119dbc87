"""The workspace directory's cache: requests that find it expired at the same moment share one read."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from baton.errors import ObjectNotFound
from baton.server.auth.principal import Principal
from baton.server.database.engine import Database
from baton.server.workspaces import WorkspaceDirectory, WorkspaceReference
from tests.server.database.test_workspace_stores import add_workspace_row


def count_reads_of(database: Database, table: str) -> list[str]:
    """The statements run on `database` from now on that read `table`."""
    seen: list[str] = []

    def note(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if f"FROM {table}" in statement or f'FROM "{table}"' in statement or f".{table}" in statement:
            seen.append(statement)

    sa.event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    return seen


async def test_concurrent_lookups_of_an_expired_cache_share_one_read(database: Database) -> None:
    workspace_id = await add_workspace_row(database, "busy")
    directory = WorkspaceDirectory(database)
    reads = count_reads_of(database, "workspace")

    answers = await asyncio.gather(*(directory.exists(workspace_id) for _ in range(32)))
    assert answers == [True] * 32
    assert len(reads) == 1

    missing = uuid.uuid4()
    assert await asyncio.gather(*(directory.exists(missing) for _ in range(8))) == [False] * 8
    assert len(reads) == 2, "an id the cache has not seen is read once (a workspace made by another process)"


async def test_concurrent_role_lookups_share_one_read(database: Database) -> None:
    workspace_id = await add_workspace_row(database, "team")
    directory = WorkspaceDirectory(database)
    member = Principal(kind="user", name="ana", role="developer", permissions=frozenset(), id=uuid.uuid4())
    reads = count_reads_of(database, "workspace_member")

    roles = await asyncio.gather(*(directory.role_of(workspace_id, member) for _ in range(16)))
    assert roles == [None] * 16
    assert len(reads) == 1


async def test_resolve_answers_not_found_for_another_accounts_workspace(database: Database) -> None:
    workspace_id = await add_workspace_row(database, "elsewhere")
    directory = WorkspaceDirectory(database)
    with pytest.raises(ObjectNotFound):
        await directory.resolve(WorkspaceReference(str(uuid.uuid4()), str(workspace_id)))

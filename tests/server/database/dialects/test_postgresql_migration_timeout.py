"""PostgreSQL statements time out after the API's timeout, except a migration's (an index build over millions of
rows takes minutes)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from baton.errors import ServiceUnavailable
from baton.server.database.engine import Database


async def test_only_migrations_run_past_the_statement_timeout(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the statement timeout is asyncpg's")
    api = Database(database_url, timeout=0.3)
    migrations = api.migration_database()
    try:
        with pytest.raises(ServiceUnavailable):
            async with api.read() as connection:
                await connection.execute(sa.text("SELECT pg_sleep(0.6)"))
        async with migrations.read() as connection:
            await connection.execute(sa.text("SELECT pg_sleep(0.6)"))
    finally:
        await api.dispose()
        await migrations.dispose()

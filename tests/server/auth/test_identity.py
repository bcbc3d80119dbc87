"""The bootstrap admin made by two server processes at once, as API replicas do when they start together on a new
database."""

from __future__ import annotations

import asyncio

from baton.server.auth import direct, identity
from baton.server.models.identity import accounts
from tests.racing_servers import separate_databases, wait_until_a_query_waits_for_a_lock

# SQLite has one writer at a time, so two bootstraps there never overlap: the race is PostgreSQL's.
ONE_DATABASE = "postgresql"
ADMIN_KEY = "baton_" + "r" * 40
WAIT_SECONDS = 30.0


async def test_a_bootstrap_that_finds_the_admin_committed_meanwhile_leaves_it_to_the_other(database_url: str) -> None:
    async with separate_databases(database_url, 3) as (first, second, observer):
        # The second server reads no admin and no account while the first one's transaction holds them uncommitted;
        # its insert waits for that commit, then finds the name taken. It used to fail the server's start.
        async with first.write() as connection:
            assert await identity.ensure_bootstrap_admin(connection, ADMIN_KEY) is True
            late = asyncio.create_task(direct.bootstrap_admin(second, ADMIN_KEY))
            await wait_until_a_query_waits_for_a_lock(observer)
        assert await asyncio.wait_for(late, WAIT_SECONDS) is False
        async with observer.read() as connection:
            account = await accounts.read_account_by_name(connection, "service_account", identity.BOOTSTRAP_ADMIN_NAME)
            assert account is not None and account["role"] == "admin"
            assert await accounts.count_active_admins(connection) == 1

"""A key revoked, an account disabled or a role lowered through one API process is refused by every other process
within a second: two servers, each with its own `ServerContext` (so its own credential cache), on one PostgreSQL
database, as two `baton server` processes would be."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import tornado.httpserver
import tornado.netutil

from baton.server.app import make_app
from baton.server.auth import credentials
from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.server.models.identity import accounts, api_keys
from baton.settings import Settings
from tests.databases import ENABLED_DIALECTS, TemplateDatabases
from tests.server.identities import ServiceAccountKey, service_account_key

#: The acceptance bound: a revocation reaches every API process within this many seconds.
REVOCATION_SECONDS = 1.0
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class ApiProcess:
    context: ServerContext
    client: httpx.AsyncClient


@pytest.fixture
def postgres_url(template_databases: TemplateDatabases, tmp_path: Path) -> Iterator[str]:
    if "postgresql" not in ENABLED_DIALECTS:
        pytest.skip("needs PostgreSQL, which BATON_TEST_DATABASES leaves out")
    url = template_databases.clone("postgresql", tmp_path)
    yield url
    template_databases.drop(url)


@pytest.fixture
async def processes(postgres_url: str, tmp_path: Path) -> AsyncIterator[list[ApiProcess]]:
    """Two servers on the same database, each with its own context, access control and database engine."""
    async with AsyncExitStack() as stack:
        found = []
        for index in range(2):
            database = Database(postgres_url)
            await database.open()
            stack.push_async_callback(database.dispose)
            settings = Settings(home=tmp_path / str(index), api_database_connection_url=postgres_url, auth_enabled=True)
            context = ServerContext(settings=settings, database=database)
            stack.push_async_callback(context.close)
            sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
            server = tornado.httpserver.HTTPServer(make_app(context, ui=False))
            server.add_sockets(sockets)
            stack.push_async_callback(server.close_all_connections)
            stack.callback(server.stop)
            base_url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/api"
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=10))
            found.append(ApiProcess(context, client))
        yield found


async def _status(process: ApiProcess, key: ServiceAccountKey) -> int:
    return (await process.client.post("/flows/filter", json={}, headers=key.headers)).status_code


async def _seconds_until_refused(process: ApiProcess, key: ServiceAccountKey, since: float) -> float:
    while (status := await _status(process, key)) != 401:
        assert status == 200
        if time.monotonic() - since > 5 * REVOCATION_SECONDS:
            break
        await asyncio.sleep(POLL_SECONDS)
    return time.monotonic() - since


async def test_a_key_revoked_through_one_server_is_refused_by_the_other_within_a_second(
    processes: list[ApiProcess],
) -> None:
    first, second = processes
    async with first.context.database.write() as connection:
        key = await service_account_key(connection, "viewer")
        kept = await service_account_key(connection, "viewer")
    # Both servers have the keys in their caches.
    for process in processes:
        assert await _status(process, key) == 200
        assert await _status(process, kept) == 200

    async with first.context.database.write() as connection:
        assert await api_keys.revoke_api_keys(connection, key.account_id) == 1
    revoked = time.monotonic()

    assert await _seconds_until_refused(second, key, revoked) < REVOCATION_SECONDS
    assert await _status(first, key) == 401
    response = await second.client.post("/flows/filter", json={}, headers=key.headers)
    assert "revoked" in response.json()["detail"]
    # Only that key: the other account's key still works on both.
    for process in processes:
        assert await _status(process, kept) == 200


async def test_a_disabled_account_and_a_lowered_role_reach_the_other_server_within_a_second(
    processes: list[ApiProcess],
) -> None:
    first, second = processes
    async with first.context.database.write() as connection:
        disabled = await service_account_key(connection, "developer")
        lowered = await service_account_key(connection, "developer")
    variable = {"name": "perm_revocation", "value": 1}
    assert (await second.client.post("/variables/", json=variable, headers=lowered.headers)).status_code == 201
    assert await _status(second, disabled) == 200

    async with first.context.database.write() as connection:
        await accounts.update_account(connection, disabled.account_id, disabled=True)
        await accounts.update_account(connection, lowered.account_id, role="viewer")
    changed = time.monotonic()

    assert await _seconds_until_refused(second, disabled, changed) < REVOCATION_SECONDS
    response = await second.client.patch("/variables/name/perm_revocation", json={"value": 2}, headers=lowered.headers)
    assert response.status_code == 403
    assert "'viewer'" in response.json()["detail"]
    assert await _status(second, lowered) == 200


async def test_an_expired_key_is_refused(processes: list[ApiProcess]) -> None:
    first, _ = processes
    async with first.context.database.write() as connection:
        account = await accounts.create_account(connection, kind="service_account", name="expired", role="admin")
        key = credentials.new_api_key()
        await api_keys.insert_api_key(
            connection,
            account_id=account["id"],
            name="old",
            prefix=credentials.shown_prefix(key),
            key_hash=credentials.sha256_hex(key),
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
        )
    response = await first.client.post("/flows/filter", json={}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]

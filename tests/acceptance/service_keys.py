"""API keys for acceptance tests with authentication on: service accounts written straight into the server's database
before it starts, as `baton service-account create` does, so that a test depends on no API to make them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from baton.server.auth import identity
from baton.server.database.engine import Database


@dataclass(frozen=True)
class ServiceKey:
    """A service account's name, role and API key."""

    name: str
    role: str
    key: str

    @property
    def auth_string(self) -> str:
        """The value for PREFECT_API_AUTH_STRING: 'name:API key'."""
        return f"{self.name}:{self.key}"


def mint_service_keys(database_url: str, roles: Iterable[str]) -> dict[str, ServiceKey]:
    """One service account named `<role>-account` per role, with its first key; role -> key."""

    async def mint() -> dict[str, ServiceKey]:
        database = Database(database_url)
        try:
            async with database.write() as connection:
                keys = {}
                for role in roles:
                    account, _, key = await identity.create_service_account(connection, f"{role}-account", role)
                    keys[role] = ServiceKey(name=account["name"], role=role, key=key)
                return keys
        finally:
            await database.dispose()

    return asyncio.run(mint())

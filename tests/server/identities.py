"""Accounts and API keys made directly through the data layer, for tests that run with authentication on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.auth import credentials
from baton.server.models.identity import accounts, api_keys


@dataclass(frozen=True)
class ServiceAccountKey:
    account_id: uuid.UUID
    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def service_account_key(connection: AsyncConnection, role: str, name: str | None = None) -> ServiceAccountKey:
    """A new service account with `role` and one API key."""
    name = name or f"{role}-{uuid.uuid4().hex[:8]}"
    account = await accounts.create_account(connection, kind="service_account", name=name, role=role)
    key = credentials.new_api_key()
    await api_keys.insert_api_key(
        connection,
        account_id=account["id"],
        name="test",
        prefix=credentials.shown_prefix(key),
        key_hash=credentials.sha256_hex(key),
    )
    return ServiceAccountKey(account_id=account["id"], name=name, key=key)

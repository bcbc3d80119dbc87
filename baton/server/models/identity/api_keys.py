"""API keys: held by service accounts and users, stored as SHA-256 hashes with a short prefix to recognise them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.identity.accounts import HOLDER_COLUMNS
from baton.server.models.identity.generation import bump_generation

#: The columns of a key that may be shown (never the hash).
SHOWN_COLUMNS = ("id", "created", "account_id", "name", "prefix", "expires_at", "last_used_at", "revoked_at")


async def insert_api_key(
    connection: AsyncConnection,
    *,
    account_id: uuid.UUID,
    name: str,
    prefix: str,
    key_hash: str,
    expires_at: dt.datetime | None = None,
) -> dict[str, Any]:
    now = utcnow()
    row = {
        "id": uuid.uuid4(),
        "created": now,
        "updated": now,
        "account_id": account_id,
        "name": name,
        "prefix": prefix,
        "key_hash": key_hash,
        "expires_at": expires_at,
        "last_used_at": None,
        "revoked_at": None,
    }
    await connection.execute(sa.insert(t.api_key).values(**row))
    return {column: row[column] for column in SHOWN_COLUMNS}


async def read_api_keys(connection: AsyncConnection, account_id: uuid.UUID) -> list[dict[str, Any]]:
    columns = [t.api_key.c[name] for name in SHOWN_COLUMNS]
    query = sa.select(*columns).where(t.api_key.c.account_id == account_id).order_by(t.api_key.c.created)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_api_keys_of_accounts(
    connection: AsyncConnection, account_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """{account id: its key rows, oldest first} for each of `account_ids` (an empty list for one with none)."""
    ids = list(account_ids)
    found: dict[uuid.UUID, list[dict[str, Any]]] = {account_id: [] for account_id in ids}
    if not ids:
        return found
    columns = [t.api_key.c[name] for name in SHOWN_COLUMNS]
    query = sa.select(*columns).where(t.api_key.c.account_id.in_(ids)).order_by(t.api_key.c.created)
    for row in (await connection.execute(query)).mappings():
        found[row["account_id"]].append(dict(row))
    return found


async def revoke_api_keys(connection: AsyncConnection, account_id: uuid.UUID, key_id: uuid.UUID | None = None) -> int:
    """Revoke one key of the account (or all of them); how many were revoked."""
    statement = sa.update(t.api_key).where(t.api_key.c.account_id == account_id, t.api_key.c.revoked_at.is_(None))
    if key_id is not None:
        statement = statement.where(t.api_key.c.id == key_id)
    revoked = (await connection.execute(statement.values(revoked_at=utcnow(), updated=utcnow()))).rowcount
    if revoked:
        await bump_generation(connection)
    return revoked


async def find_key_holder(connection: AsyncConnection, key_hash: str) -> dict[str, Any] | None:
    """The live key with this hash joined with its account (`key_id`, `key_expires_at`, and the account's columns);
    None for an unknown or revoked key. Expiry and a disabled account are the caller's to judge."""
    query = (
        sa.select(
            t.api_key.c.id.label("key_id"),
            t.api_key.c.expires_at.label("key_expires_at"),
            *HOLDER_COLUMNS,
        )
        .join(t.account, t.account.c.id == t.api_key.c.account_id)
        .where(t.api_key.c.key_hash == key_hash, t.api_key.c.revoked_at.is_(None))
    )
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def mark_keys_used(connection: AsyncConnection, key_ids: Iterable[uuid.UUID], when: dt.datetime) -> None:
    ids = list(key_ids)
    if ids:
        await connection.execute(sa.update(t.api_key).where(t.api_key.c.id.in_(ids)).values(last_used_at=when))

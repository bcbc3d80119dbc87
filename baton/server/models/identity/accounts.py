"""Accounts: users (who sign in with a password) and service accounts (which only hold API keys)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.identity.generation import bump_generation

AccountKind = Literal["user", "service_account"]
KIND_LABEL = {"user": "user", "service_account": "service account"}
#: The account columns a credential look-up needs to make a principal.
HOLDER_COLUMNS = (
    t.account.c.id,
    t.account.c.kind,
    t.account.c.name,
    t.account.c.role,
    t.account.c.disabled,
    t.account.c.expires_at,
)


async def create_account(
    connection: AsyncConnection,
    *,
    kind: AccountKind,
    name: str,
    role: str,
    password_hash: str | None = None,
    expires_at: dt.datetime | None = None,
    sso_issuer: str | None = None,
    sso_subject: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    """Insert the account and return its row; ObjectAlreadyExists when the name is taken for that kind (or, for a
    single sign-on user, when another process linked the same subject a moment before)."""
    now = utcnow()
    row = {
        "id": uuid.uuid4(),
        "created": now,
        "updated": now,
        "kind": kind,
        "name": name,
        "role": role,
        "password_hash": password_hash,
        "disabled": False,
        "expires_at": expires_at,
        "sso_issuer": sso_issuer,
        "sso_subject": sso_subject,
        "email": email,
    }
    insert = dialect_of(connection).insert(t.account).values(**row).on_conflict_do_nothing()
    if (await connection.execute(insert)).rowcount != 1:
        raise ObjectAlreadyExists(f"A {KIND_LABEL[kind]} named {name!r} already exists.")
    return row


async def read_account(connection: AsyncConnection, account_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.account).where(t.account.c.id == account_id))).mappings().first()
    return dict(row) if row else None


async def read_account_by_name(connection: AsyncConnection, kind: AccountKind, name: str) -> dict[str, Any] | None:
    query = sa.select(t.account).where(t.account.c.kind == kind, t.account.c.name == name)
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def read_account_by_sso(connection: AsyncConnection, issuer: str, subject: str) -> dict[str, Any] | None:
    """The user a single sign-on identity (issuer and subject) was linked to at its first sign-in."""
    query = sa.select(t.account).where(t.account.c.sso_issuer == issuer, t.account.c.sso_subject == subject)
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def read_accounts(
    connection: AsyncConnection, kind: AccountKind, *, name_like: str | None = None, limit: int = 200, offset: int = 0
) -> list[dict[str, Any]]:
    query = sa.select(t.account).where(t.account.c.kind == kind)
    if name_like:
        query = query.where(t.account.c.name.ilike(f"%{name_like}%"))
    query = query.order_by(t.account.c.name).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_active_admins(connection: AsyncConnection) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(t.account)
        .where(t.account.c.role == "admin", t.account.c.disabled.is_(False))
    )
    return int((await connection.execute(query)).scalar_one())


async def update_account(connection: AsyncConnection, account_id: uuid.UUID, **values: Any) -> bool:
    """Set `values` (role, disabled, password_hash, expires_at, email); False when there is no such account. Every
    change can take a permission away, so it invalidates cached credentials in every server process."""
    if not values:
        return await read_account(connection, account_id) is not None
    statement = sa.update(t.account).where(t.account.c.id == account_id).values(**values, updated=utcnow())
    changed = (await connection.execute(statement)).rowcount == 1
    if changed:
        await bump_generation(connection)
    return changed


async def delete_account(connection: AsyncConnection, account_id: uuid.UUID) -> bool:
    # Keys and sessions go with it (ON DELETE CASCADE is not enforced by SQLite without its pragma, so delete them).
    await connection.execute(sa.delete(t.api_key).where(t.api_key.c.account_id == account_id))
    await connection.execute(sa.delete(t.auth_session).where(t.auth_session.c.account_id == account_id))
    deleted = (await connection.execute(sa.delete(t.account).where(t.account.c.id == account_id))).rowcount == 1
    if deleted:
        await bump_generation(connection)
    return deleted

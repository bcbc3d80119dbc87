"""Sign-in sessions of users: a cookie's token, stored as its SHA-256, with an expiry and a CSRF token."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.identity.accounts import HOLDER_COLUMNS
from baton.server.models.identity.generation import bump_generation


async def insert_session(
    connection: AsyncConnection,
    *,
    account_id: uuid.UUID,
    token_hash: str,
    csrf_token: str,
    expires_at: dt.datetime,
    address: str | None,
) -> dict[str, Any]:
    now = utcnow()
    row = {
        "id": uuid.uuid4(),
        "created": now,
        "updated": now,
        "account_id": account_id,
        "token_hash": token_hash,
        "csrf_token": csrf_token,
        "expires_at": expires_at,
        "revoked_at": None,
        "address": address,
    }
    await connection.execute(sa.insert(t.auth_session).values(**row))
    return row


async def find_session_holder(connection: AsyncConnection, token_hash: str) -> dict[str, Any] | None:
    """The live session with this token hash joined with its account (`session_id`, `session_expires_at`,
    `csrf_token`, and the account's columns); None for an unknown or revoked one."""
    query = (
        sa.select(
            t.auth_session.c.id.label("session_id"),
            t.auth_session.c.expires_at.label("session_expires_at"),
            t.auth_session.c.csrf_token,
            *HOLDER_COLUMNS,
        )
        .join(t.account, t.account.c.id == t.auth_session.c.account_id)
        .where(t.auth_session.c.token_hash == token_hash, t.auth_session.c.revoked_at.is_(None))
    )
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def revoke_sessions(
    connection: AsyncConnection,
    account_id: uuid.UUID,
    session_id: uuid.UUID | None = None,
    *,
    except_session_id: uuid.UUID | None = None,
) -> int:
    """Revoke one session of the account (sign-out) or all of them (disable, password reset), or all but the one
    the user is using (changing their own password)."""
    statement = sa.update(t.auth_session).where(
        t.auth_session.c.account_id == account_id, t.auth_session.c.revoked_at.is_(None)
    )
    if session_id is not None:
        statement = statement.where(t.auth_session.c.id == session_id)
    if except_session_id is not None:
        statement = statement.where(t.auth_session.c.id != except_session_id)
    revoked = (await connection.execute(statement.values(revoked_at=utcnow(), updated=utcnow()))).rowcount
    if revoked:
        await bump_generation(connection)
    return revoked

"""Custom roles: named sets of permissions beside the built-in roles (which live in code, baton.server.permissions)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.identity.generation import bump_generation
from baton.server.permissions import BUILT_IN_ROLES


async def create_custom_role(
    connection: AsyncConnection, name: str, permissions: Iterable[str], description: str = ""
) -> dict[str, Any]:
    now = utcnow()
    row = {
        "id": uuid.uuid4(),
        "created": now,
        "updated": now,
        "name": name,
        "description": description,
        "permissions": sorted(set(permissions)),
    }
    insert = dialect_of(connection).insert(t.custom_role).values(**row).on_conflict_do_nothing(index_elements=["name"])
    if (await connection.execute(insert)).rowcount != 1:
        raise ObjectAlreadyExists(f"A role named {name!r} already exists.")
    # Server processes load custom roles when the generation moves: without it, a key given the new role would get
    # no permissions until some other change.
    await bump_generation(connection)
    return row


async def read_custom_roles(connection: AsyncConnection) -> list[dict[str, Any]]:
    query = sa.select(t.custom_role).order_by(t.custom_role.c.name)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_role_names(connection: AsyncConnection) -> list[str]:
    """The built-in roles, then the custom ones by name."""
    return [*BUILT_IN_ROLES, *(row["name"] for row in await read_custom_roles(connection))]


async def read_custom_role(connection: AsyncConnection, name: str) -> dict[str, Any] | None:
    query = sa.select(t.custom_role).where(t.custom_role.c.name == name)
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def update_custom_role(connection: AsyncConnection, name: str, **values: Any) -> bool:
    if "permissions" in values:
        values["permissions"] = sorted(set(values["permissions"]))
    statement = sa.update(t.custom_role).where(t.custom_role.c.name == name).values(**values, updated=utcnow())
    changed = (await connection.execute(statement)).rowcount == 1
    if changed:
        await bump_generation(connection)
    return changed


async def count_accounts_with_role(connection: AsyncConnection, name: str) -> int:
    query = sa.select(sa.func.count()).select_from(t.account).where(t.account.c.role == name)
    return int((await connection.execute(query)).scalar_one())


async def delete_custom_role(connection: AsyncConnection, name: str) -> bool:
    deleted = (await connection.execute(sa.delete(t.custom_role).where(t.custom_role.c.name == name))).rowcount == 1
    if deleted:
        await bump_generation(connection)
    return deleted

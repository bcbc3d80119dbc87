"""Data access for workspaces and their members (global tables of the main schema). A workspace's own objects are
in its store, reached through `Database.for_workspace`, never from here."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists, ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow


async def create_workspace(
    connection: AsyncConnection,
    account_id: uuid.UUID,
    name: str,
    description: str,
    workspace_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Insert a workspace row (with id `workspace_id`, or a new one); ObjectAlreadyExists when the account has a
    workspace of that name."""
    now = utcnow()
    row = {
        "id": workspace_id or uuid.uuid4(),
        "created": now,
        "updated": now,
        "account_id": account_id,
        "name": name,
        "description": description,
    }
    insert = (
        dialect_of(connection)
        .insert(t.workspace)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["account_id", "name"])
    )
    if (await connection.execute(insert)).rowcount != 1:
        raise ObjectAlreadyExists(f"A workspace named {name!r} already exists.")
    return row


async def read_workspace(connection: AsyncConnection, workspace_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.workspace).where(t.workspace.c.id == workspace_id))).mappings().first()
    return dict(row) if row is not None else None


async def read_workspace_accounts(connection: AsyncConnection) -> dict[uuid.UUID, uuid.UUID]:
    """The account of every workspace, by workspace id."""
    rows = await connection.execute(sa.select(t.workspace.c.id, t.workspace.c.account_id))
    return {row.id: row.account_id for row in rows}


async def read_workspace_ids(connection: AsyncConnection) -> list[uuid.UUID]:
    """The id of every workspace but the default one (which has no row), oldest first."""
    query = sa.select(t.workspace.c.id).order_by(t.workspace.c.created, t.workspace.c.id)
    return list((await connection.execute(query)).scalars())


async def require_workspace(connection: AsyncConnection, workspace_id: uuid.UUID) -> dict[str, Any]:
    """The workspace row; ObjectNotFound when there is none."""
    row = await read_workspace(connection, workspace_id)
    if row is None:
        raise ObjectNotFound(f"Workspace {workspace_id} not found.")
    return row


async def read_workspaces(
    connection: AsyncConnection, *, name_like: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    query = sa.select(t.workspace).order_by(t.workspace.c.name, t.workspace.c.id).limit(limit).offset(offset)
    if name_like:
        query = query.where(t.workspace.c.name.ilike(f"%{name_like}%", escape="\\"))
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_member_workspaces(connection: AsyncConnection, member_id: uuid.UUID) -> list[dict[str, Any]]:
    """The workspaces in which account `member_id` holds a role, by name, each with that role (`member_role`)."""
    member = t.workspace_member
    query = (
        sa.select(t.workspace, member.c.role.label("member_role"))
        .join(member, member.c.workspace_id == t.workspace.c.id)
        .where(member.c.member_id == member_id)
        .order_by(t.workspace.c.name, t.workspace.c.id)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_workspace_members(connection: AsyncConnection) -> dict[uuid.UUID, int]:
    """How many accounts hold a role in each workspace that has members."""
    member = t.workspace_member
    query = sa.select(member.c.workspace_id, sa.func.count()).group_by(member.c.workspace_id)
    return {row[0]: row[1] for row in await connection.execute(query)}


async def read_workspace_by_name(
    connection: AsyncConnection, account_id: uuid.UUID, name: str
) -> dict[str, Any] | None:
    query = sa.select(t.workspace).where(t.workspace.c.account_id == account_id, t.workspace.c.name == name)
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def update_workspace(
    connection: AsyncConnection, workspace_id: uuid.UUID, values: dict[str, Any]
) -> dict[str, Any]:
    """Change a workspace's name or description; ObjectNotFound, or ObjectAlreadyExists for a name in use."""
    row = await require_workspace(connection, workspace_id)
    if not values:
        return row
    if "name" in values and values["name"] != row["name"]:
        taken = sa.select(t.workspace.c.id).where(
            t.workspace.c.account_id == row["account_id"], t.workspace.c.name == values["name"]
        )
        if (await connection.execute(taken)).first() is not None:
            raise ObjectAlreadyExists(f"A workspace named {values['name']!r} already exists.")
    values = {**values, "updated": utcnow()}
    await connection.execute(sa.update(t.workspace).where(t.workspace.c.id == workspace_id).values(**values))
    return {**row, **values}


async def delete_workspace(connection: AsyncConnection, workspace_id: uuid.UUID) -> dict[str, Any]:
    """Delete a workspace row and its members; ObjectNotFound when there is none."""
    row = await require_workspace(connection, workspace_id)
    await connection.execute(sa.delete(t.workspace).where(t.workspace.c.id == workspace_id))
    return row


async def set_workspace_member(
    connection: AsyncConnection,
    workspace_id: uuid.UUID,
    member_id: uuid.UUID,
    role: str,
    *,
    row_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Give account `member_id` the role `role` in the workspace (replacing the one it had). A new membership's row
    gets the id `row_id` (default: a random one); an existing one keeps its id."""
    now = utcnow()
    row = {
        "id": row_id or uuid.uuid4(),
        "created": now,
        "updated": now,
        "workspace_id": workspace_id,
        "member_id": member_id,
    }
    insert = dialect_of(connection).insert(t.workspace_member).values(**row, role=role)
    upsert = insert.on_conflict_do_update(
        index_elements=["workspace_id", "member_id"], set_={"role": role, "updated": now}
    )
    await connection.execute(upsert)
    return await _read_member(connection, workspace_id, member_id)


async def read_workspace_member(
    connection: AsyncConnection, workspace_id: uuid.UUID, member_id: uuid.UUID
) -> dict[str, Any] | None:
    """The membership row of account `member_id` in the workspace; None when it has none."""
    member = t.workspace_member
    query = sa.select(member).where(member.c.workspace_id == workspace_id, member.c.member_id == member_id)
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def _read_member(connection: AsyncConnection, workspace_id: uuid.UUID, member_id: uuid.UUID) -> dict[str, Any]:
    row = await read_workspace_member(connection, workspace_id, member_id)
    if row is None:
        raise ObjectNotFound(f"Account {member_id} is not a member of workspace {workspace_id}.")
    return row


async def read_workspace_members(connection: AsyncConnection, workspace_id: uuid.UUID) -> list[dict[str, Any]]:
    member = t.workspace_member
    query = sa.select(member).where(member.c.workspace_id == workspace_id).order_by(member.c.created, member.c.id)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_member_role(connection: AsyncConnection, workspace_id: uuid.UUID, member_id: uuid.UUID) -> str | None:
    """The role of account `member_id` in the workspace; None when it has none."""
    member = t.workspace_member
    query = sa.select(member.c.role).where(member.c.workspace_id == workspace_id, member.c.member_id == member_id)
    return (await connection.execute(query)).scalar_one_or_none()


async def delete_workspace_member(connection: AsyncConnection, workspace_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """Take away an account's role in the workspace; ObjectNotFound when it had none."""
    member = t.workspace_member
    result = await connection.execute(
        sa.delete(member).where(member.c.workspace_id == workspace_id, member.c.member_id == member_id)
    )
    if result.rowcount != 1:
        raise ObjectNotFound(f"Account {member_id} is not a member of workspace {workspace_id}.")

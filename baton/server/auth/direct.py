"""Identity changes made directly on the database, without the API: by the `baton user|service-account|role|audit`
commands (someone who holds the database's credentials, so the first admin can be made before any server runs) and
by the server's bootstrap at start. Each change writes its audit entry in the same transaction."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.auth import identity
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.identity import accounts, api_keys, audit, roles
from baton.server.models.identity.accounts import AccountKind
from baton.server.permissions import BUILT_IN_ROLES, ROLE_DESCRIPTIONS

logger = logging.getLogger("baton.auth")

#: How the audit log names whoever ran a `baton user|service-account|role` command on the database.
CLI_ACTOR = ("cli", "local-cli")
#: How it names the server's own bootstrap at start.
SERVER_ACTOR = ("server", "server")


async def record(
    connection: AsyncConnection,
    action: str,
    *,
    resource_kind: str,
    resource_id: uuid.UUID | str | None = None,
    resource_name: str | None = None,
    detail: Mapping[str, Any] | None = None,
    actor: tuple[str, str] = CLI_ACTOR,
) -> None:
    """One audit entry for a change made on the database directly (never a secret in `detail`)."""
    actor_kind, actor_name = actor
    entry = {
        "id": uuid.uuid4(),
        "occurred": utcnow(),
        "actor_kind": actor_kind,
        "actor_id": None,
        "actor_name": actor_name,
        "action": action,
        "resource_kind": resource_kind,
        "resource_id": None if resource_id is None else str(resource_id),
        "resource_name": resource_name,
        "address": None,
        "outcome": "success",
        "status_code": None,
        "detail": dict(detail or {}),
    }
    await audit.insert_audit_entries(connection, [entry])


# --- users and service accounts ------------------------------------------------------------------------------------


async def create_user(database: Database, name: str, role: str, password: str) -> dict[str, Any]:
    async with database.write() as connection:
        row = await identity.create_user(connection, name, role, password)
        await record(
            connection,
            "user.create",
            resource_kind="user",
            resource_id=row["id"],
            resource_name=name,
            detail={"role": role},
        )
    return row


async def read_accounts(database: Database, kind: AccountKind, limit: int = 1000) -> list[dict[str, Any]]:
    """Accounts of `kind` by name, each with `api_keys` (its key rows, never a hash)."""
    async with database.read() as connection:
        rows = await accounts.read_accounts(connection, kind, limit=limit)
        keys = await api_keys.read_api_keys_of_accounts(connection, [row["id"] for row in rows])
    return [{**_shown(row), "api_keys": keys[row["id"]]} for row in rows]


def _shown(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "password_hash"}


async def set_role(database: Database, kind: AccountKind, name: str, role: str) -> dict[str, Any]:
    async with database.write() as connection:
        account = await identity.require_account_by_name(connection, kind, name)
        row = await identity.set_role(connection, account["id"], role)
        await record(
            connection,
            f"{kind}.set_role",
            resource_kind=kind,
            resource_id=row["id"],
            resource_name=name,
            detail={"role": role, "previous_role": account["role"]},
        )
    return row


async def set_disabled(database: Database, kind: AccountKind, name: str, disabled: bool) -> dict[str, Any]:
    async with database.write() as connection:
        account = await identity.require_account_by_name(connection, kind, name)
        row = await identity.set_disabled(connection, account["id"], disabled)
        action = f"{kind}.disable" if disabled else f"{kind}.enable"
        await record(connection, action, resource_kind=kind, resource_id=row["id"], resource_name=name)
    return row


async def reset_password(database: Database, name: str, password: str) -> None:
    async with database.write() as connection:
        account = await identity.require_account_by_name(connection, "user", name)
        await identity.set_password(connection, account["id"], password)
        await record(
            connection, "user.reset_password", resource_kind="user", resource_id=account["id"], resource_name=name
        )


async def create_service_account(
    database: Database, name: str, role: str, expires_at: dt.datetime | None = None
) -> tuple[dict[str, Any], str]:
    """The account and its first API key (shown once)."""
    async with database.write() as connection:
        row, key_row, key = await identity.create_service_account(connection, name, role, expires_at)
        await record(
            connection,
            "service_account.create",
            resource_kind="service_account",
            resource_id=row["id"],
            resource_name=name,
            detail={"role": role, "key_prefix": key_row["prefix"]},
        )
    return row, key


async def rotate_key(database: Database, name: str) -> tuple[dict[str, Any], str]:
    """Revoke the service account's keys and issue a new one: its row and the key (shown once)."""
    async with database.write() as connection:
        account = await identity.require_account_by_name(connection, "service_account", name)
        key_row, key = await identity.rotate_api_key(connection, account["id"])
        await record(
            connection,
            "api_key.rotate",
            resource_kind="service_account",
            resource_id=account["id"],
            resource_name=name,
            detail={"key_prefix": key_row["prefix"]},
        )
    return key_row, key


async def delete_account(database: Database, kind: AccountKind, name: str) -> None:
    async with database.write() as connection:
        account = await identity.require_account_by_name(connection, kind, name)
        await identity.delete_account(connection, account["id"])
        await record(connection, f"{kind}.delete", resource_kind=kind, resource_id=account["id"], resource_name=name)


# --- roles ---------------------------------------------------------------------------------------------------------


async def read_roles(database: Database) -> list[dict[str, Any]]:
    """Every role as {name, description, permissions, built_in}: the built-in ones first."""
    async with database.read() as connection:
        custom = await roles.read_custom_roles(connection)
    built_in = [
        {"name": name, "description": ROLE_DESCRIPTIONS[name], "permissions": sorted(perms), "built_in": True}
        for name, perms in BUILT_IN_ROLES.items()
    ]
    return built_in + [
        {"name": row["name"], "description": row["description"], "permissions": row["permissions"], "built_in": False}
        for row in custom
    ]


async def create_role(database: Database, name: str, permissions: list[str], description: str) -> dict[str, Any]:
    async with database.write() as connection:
        row = await identity.create_custom_role(connection, name, permissions, description)
        await record(
            connection,
            "role.create",
            resource_kind="role",
            resource_id=row["id"],
            resource_name=name,
            detail={"permissions": row["permissions"]},
        )
    return row


async def delete_role(database: Database, name: str) -> None:
    async with database.write() as connection:
        await identity.delete_custom_role(connection, name)
        await record(connection, "role.delete", resource_kind="role", resource_name=name)


# --- the audit log and the bootstrap admin ------------------------------------------------------------------------


async def read_audit(database: Database, *, limit: int, **condition: Any) -> list[dict[str, Any]]:
    """Entries matching `condition` (the fields of `models.identity.audit.audit_condition`), newest first."""
    async with database.read() as connection:
        return await audit.read_audit_entries(connection, audit.audit_condition(**condition), limit=limit)


async def bootstrap_admin(database: Database, key: str | None) -> bool:
    """With BATON_AUTH_BOOTSTRAP_ADMIN_KEY set and no enabled admin: the admin service account `bootstrap-admin`
    holding that key. True when it was created or given the key; logged (never the key) and audited."""
    if not key:
        return False
    async with database.write() as connection:
        changed = await identity.ensure_bootstrap_admin(connection, key)
        if changed:
            await record(
                connection,
                "service_account.bootstrap",
                resource_kind="service_account",
                resource_name=identity.BOOTSTRAP_ADMIN_NAME,
                actor=SERVER_ACTOR,
            )
    if changed:
        logger.warning(
            "No enabled admin existed: the admin service account %r now holds the key in "
            "BATON_AUTH_BOOTSTRAP_ADMIN_KEY. Make a user admin (`baton user create NAME --role admin`), then unset it.",
            identity.BOOTSTRAP_ADMIN_NAME,
        )
    return changed

"""What can be done to accounts, keys, sessions and roles, with the rules that hold whoever asks (the API, the UI,
the CLI working directly on the database, the server's bootstrap at start).

Each function takes an open write connection, so that the caller's transaction holds the change and its audit entry;
rules broken are `baton.errors` (ValidationFailed, ObjectNotFound, ObjectAlreadyExists, Forbidden).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import Forbidden, ObjectAlreadyExists, ObjectNotFound, ValidationFailed
from baton.server.auth import credentials
from baton.server.database.types import utcnow
from baton.server.models.identity import accounts, api_keys, roles, sessions
from baton.server.models.identity.accounts import AccountKind
from baton.server.permissions import BUILT_IN_ROLES, unknown_permissions

BOOTSTRAP_ADMIN_NAME = "bootstrap-admin"
MAX_NAME_CHARS = 100


def check_name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS or any(ch in name for ch in "/:\x00") or not name.isprintable():
        raise ValidationFailed(
            f"A {what} name has 1 to {MAX_NAME_CHARS} printable characters, none of them '/' or ':'; got {name!r}."
        )
    return name


async def check_role(connection: AsyncConnection, role: str) -> str:
    """`role` if it names a built-in or custom role; ValidationFailed listing the roles otherwise."""
    if role in BUILT_IN_ROLES or await roles.read_custom_role(connection, role) is not None:
        return role
    custom = [row["name"] for row in await roles.read_custom_roles(connection)]
    known = ", ".join([*BUILT_IN_ROLES, *custom])
    raise ValidationFailed(f"There is no role named {role!r}; the roles are: {known}.")


def _check_password(password: str) -> str:
    problem = credentials.password_problem(password)
    if problem:
        raise ValidationFailed(problem)
    return credentials.hash_password(password)


async def create_user(connection: AsyncConnection, name: str, role: str, password: str | None) -> dict[str, Any]:
    """A user who signs in with `password` (None: cannot sign in until one is set)."""
    name = check_name(name, "user")
    await check_role(connection, role)
    password_hash = _check_password(password) if password is not None else None
    return await accounts.create_account(connection, kind="user", name=name, role=role, password_hash=password_hash)


async def create_service_account(
    connection: AsyncConnection, name: str, role: str, expires_at: dt.datetime | None = None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The account, its first key's row and the key itself (shown once, never stored)."""
    name = check_name(name, "service account")
    await check_role(connection, role)
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationFailed("expires_at must be in the future.")
    account = await accounts.create_account(
        connection, kind="service_account", name=name, role=role, expires_at=expires_at
    )
    key_row, key = await issue_api_key(connection, account["id"], name="default", expires_at=expires_at)
    return account, key_row, key


async def issue_api_key(
    connection: AsyncConnection, account_id: uuid.UUID, *, name: str, expires_at: dt.datetime | None = None
) -> tuple[dict[str, Any], str]:
    """A new key for the account: its row (prefix, no hash) and the key itself."""
    key = credentials.new_api_key()
    row = await api_keys.insert_api_key(
        connection,
        account_id=account_id,
        name=check_name(name, "key"),
        prefix=credentials.shown_prefix(key),
        key_hash=credentials.sha256_hex(key),
        expires_at=expires_at,
    )
    return row, key


async def rotate_api_key(connection: AsyncConnection, account_id: uuid.UUID) -> tuple[dict[str, Any], str]:
    """Revoke every key of the account and issue a new one (same expiry as the account)."""
    account = await require_account(connection, account_id)
    await api_keys.revoke_api_keys(connection, account_id)
    return await issue_api_key(connection, account_id, name="default", expires_at=account["expires_at"])


async def require_account(
    connection: AsyncConnection, account_id: uuid.UUID, kind: AccountKind | None = None
) -> dict[str, Any]:
    account = await accounts.read_account(connection, account_id)
    if account is None or (kind is not None and account["kind"] != kind):
        what = accounts.KIND_LABEL[kind] if kind else "account"
        raise ObjectNotFound(f"There is no {what} with the id {account_id}.")
    return account


async def require_account_by_name(connection: AsyncConnection, kind: AccountKind, name: str) -> dict[str, Any]:
    account = await accounts.read_account_by_name(connection, kind, name)
    if account is None:
        raise ObjectNotFound(f"There is no {accounts.KIND_LABEL[kind]} named {name!r}.")
    return account


async def set_role(connection: AsyncConnection, account_id: uuid.UUID, role: str) -> dict[str, Any]:
    account = await require_account(connection, account_id)
    await check_role(connection, role)
    if account["role"] == "admin" and role != "admin":
        await _keep_an_admin(connection, account)
    await accounts.update_account(connection, account_id, role=role)
    return {**account, "role": role}


async def set_disabled(connection: AsyncConnection, account_id: uuid.UUID, disabled: bool) -> dict[str, Any]:
    """Disable (its keys and sessions stop working at once, in every process) or re-enable an account."""
    account = await require_account(connection, account_id)
    if disabled and account["role"] == "admin" and not account["disabled"]:
        await _keep_an_admin(connection, account)
    await accounts.update_account(connection, account_id, disabled=disabled)
    if disabled:
        await sessions.revoke_sessions(connection, account_id)
    return {**account, "disabled": disabled}


async def set_password(
    connection: AsyncConnection, account_id: uuid.UUID, password: str, *, keep_session: uuid.UUID | None = None
) -> None:
    """A user's new password; every session of the user ends (sign in again), but `keep_session` (the one a user
    changing their own password is using)."""
    account = await require_account(connection, account_id, "user")
    await accounts.update_account(connection, account["id"], password_hash=_check_password(password))
    await sessions.revoke_sessions(connection, account["id"], except_session_id=keep_session)


async def delete_account(connection: AsyncConnection, account_id: uuid.UUID) -> dict[str, Any]:
    account = await require_account(connection, account_id)
    if account["role"] == "admin" and not account["disabled"]:
        await _keep_an_admin(connection, account)
    await accounts.delete_account(connection, account_id)
    return account


async def _keep_an_admin(connection: AsyncConnection, account: dict[str, Any]) -> None:
    if await accounts.count_active_admins(connection) <= 1:
        raise Forbidden(
            f"{account['name']!r} is the last enabled admin; make another account admin first, or nobody could "
            "manage users and roles."
        )


async def start_session(
    connection: AsyncConnection, account: dict[str, Any], *, hours: float, address: str | None
) -> tuple[dict[str, Any], str]:
    """A session for a user who has just proved their password: its row (with the CSRF token) and the cookie token."""
    token = credentials.new_token()
    row = await sessions.insert_session(
        connection,
        account_id=account["id"],
        token_hash=credentials.sha256_hex(token),
        csrf_token=credentials.new_token(),
        expires_at=utcnow() + dt.timedelta(hours=hours),
        address=address,
    )
    return row, token


async def create_custom_role(
    connection: AsyncConnection, name: str, permissions: list[str], description: str = ""
) -> dict[str, Any]:
    name = check_name(name, "role")
    if name in BUILT_IN_ROLES:
        raise ValidationFailed(f"{name!r} is a built-in role; choose another name.")
    _check_permissions(permissions)
    return await roles.create_custom_role(connection, name, permissions, description)


async def update_custom_role(
    connection: AsyncConnection, name: str, *, permissions: list[str] | None, description: str | None
) -> dict[str, Any]:
    if name in BUILT_IN_ROLES:
        raise Forbidden(f"{name!r} is a built-in role and cannot be changed.")
    values: dict[str, Any] = {}
    if permissions is not None:
        _check_permissions(permissions)
        values["permissions"] = permissions
    if description is not None:
        values["description"] = description
    if values:
        await roles.update_custom_role(connection, name, **values)
    role = await roles.read_custom_role(connection, name)
    if role is None:
        raise ObjectNotFound(f"There is no custom role named {name!r}.")
    return role


async def delete_custom_role(connection: AsyncConnection, name: str) -> None:
    if name in BUILT_IN_ROLES:
        raise Forbidden(f"{name!r} is a built-in role and cannot be deleted.")
    holders = await roles.count_accounts_with_role(connection, name)
    if holders:
        raise Forbidden(f"{holders} account(s) hold the role {name!r}; give them another role first.")
    if not await roles.delete_custom_role(connection, name):
        raise ObjectNotFound(f"There is no custom role named {name!r}.")


def _check_permissions(permissions: list[str]) -> None:
    unknown = unknown_permissions(permissions)
    if unknown:
        raise ValidationFailed(
            f"Unknown permissions: {', '.join(unknown)}. Permissions are '<resource>:<verb>' from the catalogue "
            "(GET /api/roles/permissions)."
        )


async def ensure_bootstrap_admin(connection: AsyncConnection, key: str) -> bool:
    """With no enabled admin: the admin service account `bootstrap-admin` holding `key` (created, or given the key
    again). True when something was created or changed."""
    if await accounts.count_active_admins(connection) > 0:
        return False
    if not key.startswith(credentials.API_KEY_PREFIX) or len(key) < 32:
        raise ValidationFailed(
            f"BATON_AUTH_BOOTSTRAP_ADMIN_KEY must start with {credentials.API_KEY_PREFIX!r} and have at least 32 "
            "characters; `python -c \"import secrets; print('baton_' + secrets.token_urlsafe(32))\"` makes one."
        )
    account = await accounts.read_account_by_name(connection, "service_account", BOOTSTRAP_ADMIN_NAME)
    if account is None:
        try:
            account = await accounts.create_account(
                connection, kind="service_account", name=BOOTSTRAP_ADMIN_NAME, role="admin"
            )
        except ObjectAlreadyExists:
            # Another server starting at the same moment (API replicas on a new database) committed the account,
            # with its key, after the read: the bootstrap is done.
            return False
    else:
        await accounts.update_account(connection, account["id"], role="admin", disabled=False)
    holder = await api_keys.find_key_holder(connection, credentials.sha256_hex(key))
    if holder is not None:
        if holder["id"] != account["id"]:
            raise ValidationFailed("BATON_AUTH_BOOTSTRAP_ADMIN_KEY is already another account's key; choose a new one.")
        return True
    await api_keys.insert_api_key(
        connection,
        account_id=account["id"],
        name="bootstrap",
        prefix=credentials.shown_prefix(key),
        key_hash=credentials.sha256_hex(key),
    )
    return True

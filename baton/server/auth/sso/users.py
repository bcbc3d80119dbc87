"""The Baton user behind a single sign-on identity: linked by the provider's issuer and subject, made at the first
sign-in, and given the role the groups decide at every sign-in (so that leaving a group takes the role away)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import Forbidden, ObjectAlreadyExists
from baton.server.auth import identity
from baton.server.auth.sso.workspace_roles import WorkspaceRoles, apply_workspace_roles
from baton.server.models.identity import accounts
from baton.settings import RoleRule


@dataclass(frozen=True)
class SsoIdentity:
    """Who the provider says signed in, from the checked ID token (and userinfo)."""

    issuer: str
    subject: str
    name: str
    email: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True)
class SsoUser:
    account: dict[str, Any]
    created: bool
    previous_role: str | None
    #: What the rules naming workspaces did (see `workspace_roles`).
    workspaces: WorkspaceRoles = field(default_factory=WorkspaceRoles)


async def sign_in_sso_user(
    connection: AsyncConnection, person: SsoIdentity, role: str, rules: Sequence[RoleRule] = ()
) -> SsoUser:
    """The user linked to `person`, made on the first sign-in, holding `role` and the latest e-mail, and in each
    workspace the `rules` name the role its groups give there (`workspace_roles.apply_workspace_roles`); Forbidden
    for a disabled user or a name a user not linked to this identity already has; ValidationFailed for an unknown
    role."""
    await identity.check_role(connection, role)
    user = await _sign_in(connection, person, role)
    in_workspaces = await apply_workspace_roles(connection, user.account["id"], rules, person.groups)
    return dataclasses.replace(user, workspaces=in_workspaces)


async def _sign_in(connection: AsyncConnection, person: SsoIdentity, role: str) -> SsoUser:
    account = await accounts.read_account_by_sso(connection, person.issuer, person.subject)
    if account is None:
        name = identity.check_name(person.name, "user")
        try:
            account = await accounts.create_account(
                connection,
                kind="user",
                name=name,
                role=role,
                sso_issuer=person.issuer,
                sso_subject=person.subject,
                email=person.email,
            )
        except ObjectAlreadyExists:
            raise Forbidden(
                f"A Baton user named {name!r} exists already and is not linked to this single sign-on identity; an "
                "admin must delete that user (or the identity provider give another user name) first."
            ) from None
        return SsoUser(account, created=True, previous_role=None)
    if account["disabled"]:
        raise Forbidden(f"The Baton user {account['name']!r} is disabled; ask an admin to enable it.")
    changes = {key: value for key, value in (("role", role), ("email", person.email)) if account[key] != value}
    # The groups are the truth: a role change is applied even to the last admin (a break-glass user remains).
    await accounts.update_account(connection, account["id"], **changes)
    return SsoUser({**account, **changes}, created=False, previous_role=account["role"])

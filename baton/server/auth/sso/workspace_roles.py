"""A single sign-on user's roles in the workspaces the rules name, applied at every sign-in: the first rule for a
workspace that matches one of the user's groups gives its role there; when none matches any more, the membership
single sign-on made is removed.

Which memberships single sign-on made is told by their row id: it makes each with `sso_membership_id(workspace,
account)`, a fixed UUID, where an admin's `PUT .../members/{account_id}` makes a random one. So a membership an admin
made by hand is never removed by a sign-in (while a rule matches, its role is set like any other), and one single
sign-on made stays its own even after an admin changed its role (the next sign-in sets the rule's role again).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.accounts import DEFAULT_ACCOUNT_ID
from baton.errors import ValidationFailed
from baton.server.auth import identity
from baton.server.auth.audit_log import AuditLog
from baton.server.auth.principal import Principal
from baton.server.auth.sso.roles import DEFAULT_WORKSPACE
from baton.server.models import workspaces as models
from baton.settings import RoleRule

logger = logging.getLogger(__name__)

#: The namespace of the ids of the memberships single sign-on makes (uuid5 of "workspace id:account id").
SSO_MEMBERSHIP_NAMESPACE = uuid.UUID("6f0d7c52-3f5e-4b8e-9a43-5b1d2f9f3a10")


@dataclass(frozen=True)
class MembershipChange:
    """A role a sign-in gave (`role`) or took away (`role` None) in one workspace."""

    workspace_id: uuid.UUID
    workspace_name: str
    role: str | None
    previous_role: str | None

    def as_detail(self) -> dict[str, Any]:
        return {
            "workspace_id": str(self.workspace_id),
            "workspace": self.workspace_name,
            "role": self.role,
            "previous_role": self.previous_role,
        }


@dataclass
class WorkspaceRoles:
    """What a sign-in did in the workspaces the rules name, and the rules it could not apply (with why)."""

    changes: list[MembershipChange] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def sso_membership_id(workspace_id: uuid.UUID, account_id: uuid.UUID) -> uuid.UUID:
    """The row id single sign-on gives the membership of `account_id` in `workspace_id`."""
    return uuid.uuid5(SSO_MEMBERSHIP_NAMESPACE, f"{workspace_id}:{account_id}")


def named_workspaces(rules: Sequence[RoleRule]) -> list[str]:
    """The workspaces the rules name other than the default one, as written, each once, in the rules' order."""
    named = (rule.workspace for rule in rules if rule.workspace not in (None, DEFAULT_WORKSPACE))
    return list(dict.fromkeys(name for name in named if name is not None))


async def _find_workspace(connection: AsyncConnection, reference: str) -> dict[str, Any] | None:
    """The workspace a rule names: by id when `reference` is a UUID, else by name."""
    try:
        workspace_id = uuid.UUID(reference)
    except ValueError:
        return await models.read_workspace_by_name(connection, DEFAULT_ACCOUNT_ID, reference)
    return await models.read_workspace(connection, workspace_id)


async def apply_workspace_roles(
    connection: AsyncConnection, account_id: uuid.UUID, rules: Sequence[RoleRule], groups: Iterable[str]
) -> WorkspaceRoles:
    """Set the account's role in each workspace the rules name to the first matching rule's, and remove the
    memberships single sign-on made where no rule matches. A rule naming a workspace that does not exist, or a role
    that does not, is skipped and logged (workspaces come and go while the server runs; the sign-in goes on)."""
    held = set(groups)
    result = WorkspaceRoles()
    workspaces: dict[str, dict[str, Any]] = {}
    for reference in named_workspaces(rules):
        row = await _find_workspace(connection, reference)
        if row is None:
            result.skipped.append({"workspace": reference, "reason": "no such workspace"})
            logger.warning("BATON_AUTH_OIDC_ROLE_RULES names workspace %r, which does not exist: skipped", reference)
        else:
            workspaces[reference] = row
    wanted: dict[uuid.UUID, str] = {}
    for rule in rules:
        row = workspaces.get(rule.workspace or "")
        if row is not None and row["id"] not in wanted and rule.group in held:
            wanted[row["id"]] = rule.role
    for row in {row["id"]: row for row in workspaces.values()}.values():
        change = await _apply(connection, row, account_id, wanted.get(row["id"]), result)
        if change is not None:
            result.changes.append(change)
    return result


async def _apply(
    connection: AsyncConnection,
    workspace: dict[str, Any],
    account_id: uuid.UUID,
    role: str | None,
    result: WorkspaceRoles,
) -> MembershipChange | None:
    """Give the account `role` in the workspace, or (None) remove the membership single sign-on made there."""
    workspace_id = workspace["id"]
    current = await models.read_workspace_member(connection, workspace_id, account_id)
    previous = current["role"] if current is not None else None
    if role is not None:
        if role == previous:
            return None
        try:
            await identity.check_role(connection, role)
        except ValidationFailed as exc:
            result.skipped.append({"workspace": workspace["name"], "reason": exc.message})
            logger.warning("BATON_AUTH_OIDC_ROLE_RULES: %s Skipped for workspace %r.", exc.message, workspace["name"])
            return None
        row_id = sso_membership_id(workspace_id, account_id)
        await models.set_workspace_member(connection, workspace_id, account_id, role, row_id=row_id)
        return MembershipChange(workspace_id, workspace["name"], role, previous)
    if current is None or current["id"] != sso_membership_id(workspace_id, account_id):
        return None
    await models.delete_workspace_member(connection, workspace_id, account_id)
    return MembershipChange(workspace_id, workspace["name"], None, previous)


def audit_workspace_roles(
    audit_log: AuditLog, principal: Principal, changes: Sequence[MembershipChange], address: str | None
) -> None:
    """One `workspace.set_member` or `workspace.remove_member` entry per change, as an admin's change through the
    API makes, with the signed-in user as the actor and `"by": "single sign-on"` in the detail."""
    for change in changes:
        audit_log.record(
            principal,
            "workspace.set_member" if change.role is not None else "workspace.remove_member",
            outcome="success",
            resource_kind="workspace",
            resource_id=str(change.workspace_id),
            resource_name=change.workspace_name,
            address=address,
            detail={
                "member_id": str(principal.id),
                "role": change.role,
                "previous_role": change.previous_role,
                "by": "single sign-on",
            },
        )

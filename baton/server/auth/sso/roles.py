"""From a user's groups to their roles: the rules of BATON_AUTH_OIDC_ROLE_RULES, applied at every sign-in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from baton.settings import RoleRule

#: The workspace a rule without one applies to: the default workspace, where the rule gives the user's own role
#: (rules naming other workspaces give memberships there, see `workspace_roles`).
DEFAULT_WORKSPACE = "default"


def claim_values(value: Any) -> list[str]:
    """A groups claim as a list of strings: providers send a list, or one string (a single role or department)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if isinstance(item, str | int)]
    return []


def roles_by_workspace(rules: Sequence[RoleRule], groups: Iterable[str]) -> dict[str, str]:
    """The role in each workspace named by the rules: the first rule for that workspace matching one of `groups`."""
    held = set(groups)
    roles: dict[str, str] = {}
    for rule in rules:
        workspace = rule.workspace or DEFAULT_WORKSPACE
        if workspace not in roles and rule.group in held:
            roles[workspace] = rule.role
    return roles

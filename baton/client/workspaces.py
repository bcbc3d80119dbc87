"""Workspaces and their members (the admin API, served at /api only)."""

from __future__ import annotations

from baton.client.base import BaseClient, JsonObject
from baton.client.workspace_scope import find_workspace


class WorkspacesClient(BaseClient):
    def create_workspace(self, name: str, description: str = "") -> JsonObject:
        """The new workspace; ObjectAlreadyExists when the name is taken."""
        body = {"name": name, "description": description}
        return self.request("POST", "/workspaces/", json=body, global_route=True)

    def read_workspaces(self, *, name_like: str | None = None, limit: int | None = None) -> list[JsonObject]:
        """Workspaces by name, optionally those whose name contains `name_like`; at most `limit` of them."""
        body = {"name_like": name_like, "limit": limit}
        return self.request("POST", "/workspaces/filter", json=body, global_route=True)

    def check_workspace(self) -> None:
        """Nothing when the client's workspace exists and the caller holds a role there; ObjectNotFound (or, for a
        non-admin naming it by name, Forbidden) otherwise."""
        self.request("GET", "/health")

    def read_workspace(self, name_or_id: str) -> JsonObject:
        """The workspace with that id or name; ObjectNotFound when there is none."""
        return find_workspace(self.request, name_or_id)

    def update_workspace(self, workspace_id: str, *, name: str | None = None, description: str | None = None) -> None:
        """Rename the workspace or change its description (what is None stays)."""
        body = {key: value for key, value in (("name", name), ("description", description)) if value is not None}
        self.request("PATCH", f"/workspaces/{workspace_id}", json=body, global_route=True)

    def delete_workspace(self, workspace_id: str) -> None:
        """Delete the workspace and every object in it."""
        self.request("DELETE", f"/workspaces/{workspace_id}", global_route=True)

    def read_workspace_members(self, workspace_id: str) -> list[JsonObject]:
        """The accounts holding a role in the workspace: {member_id, role, ...}."""
        return self.request("GET", f"/workspaces/{workspace_id}/members", global_route=True)

    def set_workspace_member(self, workspace_id: str, account_id: str, role: str) -> JsonObject:
        """Give the account `role` in the workspace (replacing the role it held there)."""
        path = f"/workspaces/{workspace_id}/members/{account_id}"
        return self.request("PUT", path, json={"role": role}, global_route=True)

    def delete_workspace_member(self, workspace_id: str, account_id: str) -> None:
        """Take away the account's role in the workspace; ObjectNotFound when it held none."""
        self.request("DELETE", f"/workspaces/{workspace_id}/members/{account_id}", global_route=True)

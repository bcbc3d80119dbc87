"""The Workspaces pages (admins): every workspace with its member count, create one and rename it (`/workspaces`),
and one workspace's settings: rename, members and their roles, delete after typing its name
(`/workspace-settings/{id}`). They read through the data layer; their forms write through the JSON API
(/api/workspaces), which checks `workspace:write` and the CSRF token and writes the audit log. And the page every
caller switches workspaces on (`/workspaces/switch`)."""

from __future__ import annotations

import uuid
from typing import Any

from baton.server.models import workspaces as models
from baton.server.models.identity import accounts, roles
from baton.server.permissions import SIGNED_IN
from baton.webui import workspace_scope
from baton.webui.base import PageHandler
from baton.webui.pages.users import MAX_LISTED

# A server holds tens of workspaces, not thousands: one page.
MAX_WORKSPACES = 500


class WorkspacesPageHandler(PageHandler):
    permission = "workspace:read"

    async def get(self) -> None:
        async with self.database.read() as connection:
            rows = await models.read_workspaces(connection, name_like=None, limit=MAX_WORKSPACES, offset=0)
            members = await models.count_workspace_members(connection)
        self.render_page("workspaces.html", title="Workspaces", workspaces=rows, member_counts=members)


class WorkspaceSettingsPageHandler(PageHandler):
    permission = "workspace:read"

    async def get(self, workspace_id: str) -> None:
        target = self.path_uuid(workspace_id, "workspace")
        async with self.database.read() as connection:
            workspace = await models.require_workspace(connection, target)
            members = await models.read_workspace_members(connection, target)
            listed = {
                row["id"]: row
                for kind in ("user", "service_account")
                for row in await accounts.read_accounts(connection, kind, limit=MAX_LISTED)
            }
            role_names = await roles.read_role_names(connection)
        self.render_page(
            "workspace_settings.html",
            title=f"Workspace {workspace['name']}",
            workspace=workspace,
            workspace_api_base=workspace_scope.api_base(target),
            members=[_member(row, listed.get(row["member_id"])) for row in members],
            candidates=[row for row in listed.values() if row["id"] not in {m["member_id"] for m in members}],
            role_names=role_names,
        )


def _member(row: dict[str, Any], account: dict[str, Any] | None) -> dict[str, Any]:
    """A membership with its account's name and kind (an account beyond the listed ones is shown by its id)."""
    member_id: uuid.UUID = row["member_id"]
    return {
        **row,
        "name": account["name"] if account else str(member_id),
        "kind": (account["kind"] if account else "account").replace("_", " "),
    }


class WorkspaceSwitchPageHandler(PageHandler):
    """Every workspace the caller may switch to (the sidebar's switcher shows the first few), each linking to the
    page `section` names in it (a sidebar entry's page; the runs page for anything else)."""

    permission = SIGNED_IN

    async def get(self) -> None:
        section = workspace_scope.section_path(self.get_query_argument("section", workspace_scope.DEFAULT_SECTION))
        choices = self.workspace_choices
        self.render_page("workspace_switch.html", title="Switch workspace", choices=choices, section=section)


routes = [
    (workspace_scope.SWITCH_PAGE_PATH, WorkspaceSwitchPageHandler),
    (r"/workspaces/?", WorkspacesPageHandler),
    (r"/workspace-settings/(?P<workspace_id>[^/]+)/?", WorkspaceSettingsPageHandler),
]

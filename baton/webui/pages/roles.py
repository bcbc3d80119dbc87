"""The Roles page: the built-in roles with their permissions (read only), and custom roles made and changed with a
permission grid (resources as rows, verbs as columns) through the JSON API (/api/roles)."""

from __future__ import annotations

from baton.errors import ObjectNotFound
from baton.server.models.identity import roles
from baton.server.permissions import BUILT_IN_ROLES, RESOURCES, ROLE_DESCRIPTIONS
from baton.webui.base import PageHandler


def grid_verbs() -> list[str]:
    """The grid's columns: every verb of the catalogue, `read` and `write` first."""
    verbs: list[str] = []
    for resource_verbs in RESOURCES.values():
        verbs.extend(verb for verb in resource_verbs if verb not in verbs)
    return sorted(verbs, key=lambda verb: (verb not in ("read", "write"), verbs.index(verb)))


class RolesPageHandler(PageHandler):
    permission = "role:read"

    async def get(self) -> None:
        editing_name = self.get_query_argument("edit", "").strip()
        async with self.database.read() as connection:
            custom = await roles.read_custom_roles(connection)
            holders = {row["name"]: await roles.count_accounts_with_role(connection, row["name"]) for row in custom}
        editing = next((row for row in custom if row["name"] == editing_name), None)
        if editing_name and editing is None:
            raise ObjectNotFound(f"There is no custom role named {editing_name!r}.")
        built_in = [
            {"name": name, "description": ROLE_DESCRIPTIONS.get(name, ""), "permissions": sorted(permissions)}
            for name, permissions in BUILT_IN_ROLES.items()
        ]
        self.render_page(
            "roles.html",
            title="Roles",
            built_in=built_in,
            custom=custom,
            holders=holders,
            editing=editing,
            resources=RESOURCES,
            verbs=grid_verbs(),
        )


routes = [(r"/roles/?", RolesPageHandler)]

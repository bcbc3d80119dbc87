"""The Users page: every user with their role and state; create, change role, disable or enable, and reset a
password through the JSON API (/api/users)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.models.identity import accounts, roles
from baton.server.permissions import BUILT_IN_ROLES
from baton.webui.base import PageHandler

# A server has tens of users, not thousands: one page, searchable.
MAX_LISTED = 500


async def role_names(connection: AsyncConnection) -> list[str]:
    """The built-in roles, then the custom ones by name."""
    return [*BUILT_IN_ROLES, *(row["name"] for row in await roles.read_custom_roles(connection))]


class UsersPageHandler(PageHandler):
    permission = "user:read"

    async def get(self) -> None:
        search = self.get_query_argument("q", "").strip()
        async with self.database.read() as connection:
            users = await accounts.read_accounts(connection, "user", name_like=search or None, limit=MAX_LISTED)
            names = await role_names(connection)
        self.render_page("users.html", title="Users", users=users, search=search, role_names=names)


routes = [(r"/users/?", UsersPageHandler)]

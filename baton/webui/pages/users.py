"""The Users page: every user with their role and state; create, change role, disable or enable, and reset a
password through the JSON API (/api/users)."""

from __future__ import annotations

from baton.server.models.identity import accounts, roles
from baton.webui.base import PageHandler

# A server has tens of users, not thousands: one page, searchable.
MAX_LISTED = 500


class UsersPageHandler(PageHandler):
    permission = "user:read"

    async def get(self) -> None:
        search = self.get_query_argument("q", "").strip()
        async with self.database.read() as connection:
            users = await accounts.read_accounts(connection, "user", name_like=search or None, limit=MAX_LISTED)
            names = await roles.read_role_names(connection)
        self.render_page("users.html", title="Users", users=users, search=search, role_names=names)


routes = [(r"/users/?", UsersPageHandler)]

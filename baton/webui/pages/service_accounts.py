"""The Service accounts page: each account with its key's prefix, last use and expiry; create (the key is shown
once), rotate the key, change the role, disable and delete through the JSON API (/api/service_accounts)."""

from __future__ import annotations

from baton.server.models.identity import accounts, api_keys, roles
from baton.webui.base import PageHandler
from baton.webui.pages.users import MAX_LISTED


class ServiceAccountsPageHandler(PageHandler):
    permission = "service_account:read"

    async def get(self) -> None:
        search = self.get_query_argument("q", "").strip()
        async with self.database.read() as connection:
            rows = await accounts.read_accounts(
                connection, "service_account", name_like=search or None, limit=MAX_LISTED
            )
            keys = {row["id"]: await api_keys.read_api_keys(connection, row["id"]) for row in rows}
            names = await roles.read_role_names(connection)
        listed = [{**row, "api_keys": [key for key in keys[row["id"]] if key["revoked_at"] is None]} for row in rows]
        self.render_page(
            "service_accounts.html", title="Service accounts", accounts=listed, search=search, role_names=names
        )


routes = [(r"/service-accounts/?", ServiceAccountsPageHandler)]

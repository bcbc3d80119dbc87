"""My account: who I am, my password and my personal API keys (changed through /api/me)."""

from __future__ import annotations

from typing import Any

from baton.server.models.identity import api_keys
from baton.server.permissions import SIGNED_IN
from baton.webui.base import PageHandler


class AccountPageHandler(PageHandler):
    permission = SIGNED_IN

    async def get(self) -> None:
        keys: list[dict[str, Any]] = []
        if self.principal.id is not None:
            async with self.database.read() as connection:
                keys = [
                    key
                    for key in await api_keys.read_api_keys(connection, self.principal.id)
                    if key["revoked_at"] is None
                ]
        self.render_page("account.html", title="My account", api_keys=keys)


routes = [(r"/account/?", AccountPageHandler)]

"""A Baton server with authentication on for UI tests: users made on its database before it starts, the bootstrap
admin key for API set-up, and a browser sign-in."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from baton.server.auth import identity
from baton.server.database.engine import Database
from tests.acceptance.conftest import baton_server
from tests.webui.conftest import UiServer, _ui_server

BOOTSTRAP_KEY = "baton_ui-tests-bootstrap-admin-key-0123456789"
#: name -> (role, password) of the users every auth UI test module starts with.
USERS: Mapping[str, tuple[str, str]] = {
    "alice": ("admin", "alice-password-1"),
    "victor": ("viewer", "victor-password-1"),
    "dora": ("developer", "dora-password-1"),
}


async def _create_users(database_url: str, users: Mapping[str, tuple[str, str]]) -> None:
    database = Database(database_url)
    try:
        async with database.write() as connection:
            # Before the users: the server makes the bootstrap admin only while no admin exists.
            await identity.ensure_bootstrap_admin(connection, BOOTSTRAP_KEY)
            for name, (role, password) in users.items():
                await identity.create_user(connection, name, role, password)
    finally:
        await database.dispose()


def auth_ui_server(home: Path, database_url: str, **settings: str) -> Iterator[UiServer]:
    """A server with auth on over `database_url`, holding USERS and the admin service account of BOOTSTRAP_KEY."""
    asyncio.run(_create_users(database_url, USERS))
    for server in baton_server(home, database_url, BATON_AUTH_ENABLED="true", **settings):
        yield _ui_server(server)


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {BOOTSTRAP_KEY}"}


def sign_in(page: Any, server: UiServer, name: str, next_path: str = "/") -> None:
    """Sign in through the form and wait for the page it leads to."""
    page.goto(f"{server.url}/login?next={next_path}")
    page.fill("#sign-in-name", name)
    page.fill("#sign-in-password", USERS[name][1])
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(server.url + next_path) + r"(\?.*)?$"))

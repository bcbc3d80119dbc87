"""Server tests: an in-process Baton server on a real loopback port per test, and an HTTP client pointed at its API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import tornado.httpserver
import tornado.netutil

from baton.server.app import make_app
from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.settings import Settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, api_database_connection_url=database_url)


@pytest.fixture
async def server_context(settings: Settings, database: Database) -> AsyncIterator[ServerContext]:
    context = ServerContext(settings=settings, database=database)
    yield context
    # Writes the audit entries still queued, so that no flush is left holding a connection when the loop ends.
    await context.close()


@contextlib.asynccontextmanager
async def served(context: ServerContext, *, ui: bool = True) -> AsyncIterator[str]:
    """The base URL (http://127.0.0.1:PORT) of `context` served on a loopback port until the block ends."""
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(
        make_app(context, ui=ui), max_body_size=context.settings.server_api_max_body_bytes
    )
    server.add_sockets(sockets)
    try:
        yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    finally:
        server.stop()
        await server.close_all_connections()


@pytest.fixture
async def base_url(server_context: ServerContext) -> AsyncIterator[str]:
    """The base URL (http://127.0.0.1:PORT) of a running server with the API and UI."""
    async with served(server_context) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose relative URLs are under the server's /api."""
    async with httpx.AsyncClient(base_url=f"{base_url}/api", timeout=30) as http:
        yield http

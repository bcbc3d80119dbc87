"""What actors share inside one process: the settings, the broker and the database.

In `baton server services` each worker process opens its own database on its actor event loop, on first use. In
embedded mode the server hands its own database over (`use`), so actors and handlers share one pool and, on SQLite,
one in-process write lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dramatiq

from baton.server.blocks.encryption import BlockCipher
from baton.server.database.engine import Database

if TYPE_CHECKING:
    import httpx

_settings: Any = None
_broker: dramatiq.Broker | None = None
_database: Database | None = None
_owns_database = False
_http: httpx.AsyncClient | None = None
_cipher: BlockCipher | None = None
# Outgoing requests (notifications) time out after this many seconds.
HTTP_TIMEOUT_SECONDS = 10.0


def use(settings: Any, broker: dramatiq.Broker, database: Database | None = None) -> None:
    """Set the process's actor runtime; `database` None means "open one from the settings when first needed"."""
    global _settings, _broker, _database, _owns_database, _cipher
    _settings, _broker, _database, _owns_database, _cipher = settings, broker, database, False, None


def cipher() -> BlockCipher:
    """The block-document cipher of the process: it reads the encryption key once, not on every delivery."""
    global _cipher
    if _cipher is None:
        _cipher = BlockCipher(settings().server_encryption_key)
    return _cipher


def settings() -> Any:
    if _settings is None:
        raise RuntimeError("The actor runtime is not set up; call baton.actors.runtime.use() first")
    return _settings


def broker() -> dramatiq.Broker:
    if _broker is None:
        raise RuntimeError("The actor runtime is not set up; call baton.actors.runtime.use() first")
    return _broker


async def database() -> Database:
    """The database actors write to (opened on the calling event loop the first time)."""
    global _database, _owns_database
    if _database is None:
        database = Database.from_settings(settings())
        await database.open()
        _database, _owns_database = database, True
    return _database


async def http_client() -> httpx.AsyncClient:
    """One HTTP client for the process's actors (created on the actors' loop the first time). Building a client
    costs far more CPU than a notification's request (its TLS context), and a shared one keeps connections to the
    services alive between messages."""
    global _http
    if _http is None:
        from baton.notifications.http import make_http_client

        _http = make_http_client(HTTP_TIMEOUT_SECONDS)
    return _http


async def close() -> None:
    """Close the HTTP client, and a database the runtime opened itself (not one it was handed)."""
    global _database, _owns_database, _http
    if _http is not None:
        await _http.aclose()
        _http = None
    if _database is not None and _owns_database:
        await _database.dispose()
        _database, _owns_database = None, False

"""What actors share inside one process: the settings, the broker and the database.

In `baton server services` each worker process opens its own database on its actor event loop, on first use. In
embedded mode the server hands its own database over (`use`), so actors and handlers share one pool and, on SQLite,
one in-process write lock.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from baton.server.database.engine import Database

_settings: Any = None
_broker: dramatiq.Broker | None = None
_database: Database | None = None
_owns_database = False


def use(settings: Any, broker: dramatiq.Broker, database: Database | None = None) -> None:
    """Set the process's actor runtime; `database` None means "open one from the settings when first needed"."""
    global _settings, _broker, _database, _owns_database
    _settings, _broker, _database, _owns_database = settings, broker, database, False


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


async def close() -> None:
    """Close a database the runtime opened itself (not one it was handed)."""
    global _database, _owns_database
    if _database is not None and _owns_database:
        await _database.dispose()
        _database, _owns_database = None, False

"""The database dialects Baton supports, chosen by the connection URL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ValidationFailed
from baton.server.database.dialects.base import DatabaseDialect
from baton.server.database.dialects.postgresql import PostgreSQLDialect
from baton.server.database.dialects.sqlite import SQLiteDialect, is_memory_url

SUPPORTED_DRIVERS = {"sqlite+aiosqlite": SQLiteDialect, "postgresql+asyncpg": PostgreSQLDialect}


def dialect_for_url(url: sa.URL) -> DatabaseDialect:
    """The dialect for a connection URL; raises ValidationFailed for a driver Baton does not support."""
    dialect_class = SUPPORTED_DRIVERS.get(url.drivername)
    if dialect_class is None:
        supported = ", ".join(f"{name}://" for name in SUPPORTED_DRIVERS)
        raise ValidationFailed(
            f"Unsupported database URL scheme '{url.drivername}://'. Baton supports {supported} "
            "(for example sqlite+aiosqlite:///path/to/baton.db or postgresql+asyncpg://user:pass@host/db)."
        )
    return dialect_class()


_BY_NAME: dict[str, DatabaseDialect] = {"sqlite": SQLiteDialect(), "postgresql": PostgreSQLDialect()}


def dialect_of(connection: sa.Connection | AsyncConnection) -> DatabaseDialect:
    """The Baton dialect of an open connection."""
    return _BY_NAME[connection.dialect.name]


__all__ = ["DatabaseDialect", "PostgreSQLDialect", "SQLiteDialect", "dialect_for_url", "dialect_of", "is_memory_url"]

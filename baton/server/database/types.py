"""Column types that behave the same on SQLite and PostgreSQL.

Timestamps are always timezone-aware UTC in Python. PostgreSQL stores them as TIMESTAMP WITH TIME ZONE; SQLite has no
such type, so they are stored as naive UTC text in a fixed-width format, which keeps lexical order equal to time order
(the indexes on time columns rely on that).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class Timestamp(sa.types.TypeDecorator[dt.datetime]):
    """An aware UTC datetime on both dialects; naive input is taken to be UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(sa.DateTime(timezone=False))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class JSONType(sa.types.TypeDecorator[Any]):
    """JSON: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB(none_as_null=True))
        return dialect.type_descriptor(sa.JSON(none_as_null=True))


def utcnow() -> dt.datetime:
    """The current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def _uuid_subclass(value: Any) -> str:
    # asyncpg returns its own UUID subclass, which orjson does not take as a UUID.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dump_json(value: Any) -> str:
    """JSON column values to text: orjson, several times faster than the standard library on the events path."""
    return orjson.dumps(value, default=_uuid_subclass, option=orjson.OPT_NON_STR_KEYS).decode()


def load_json(text: str | bytes) -> Any:
    if not isinstance(text, str | bytes):
        # SQLite hands back a JSON number as a number; SQLAlchemy's SQLite JSON type expects a TypeError for it.
        raise TypeError(f"JSON text expected, got {type(text).__name__}")
    return orjson.loads(text)

"""SQLite through aiosqlite: WAL, busy timeout, foreign keys, BEGIN IMMEDIATE for writes."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from baton.errors import SettingsError
from baton.server.database.dialects.base import DatabaseDialect, WorkspaceStore

# Connection-level tunables; cache_size is in KiB when negative (here 64 MiB of page cache per connection).
SQLITE_CACHE_SIZE_KIB = 64_000
BEGIN_MODE_OPTION = "baton_sqlite_begin"
# The most pooled connections to one SQLite file (each has a driver thread and a page cache).
SQLITE_MAX_POOL_SIZE = 5
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# What SQLite keeps beside a database file in WAL mode.
SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def is_memory_url(url: sa.URL) -> bool:
    """True for an in-memory SQLite database (`:memory:` or a `file::memory:` URI)."""
    database = url.database or ""
    # SQLAlchemy moves a URI's query (`file:name?mode=memory&uri=true`) out of `database` into `query`.
    return database in ("", ":memory:") or database.startswith("file::memory:") or url.query.get("mode") == "memory"


def ensure_database_directory(url: sa.URL) -> None:
    """Create the folder of a file database (on a fresh machine `~/.baton` does not exist yet).

    SQLite creates the file but not its folder; without this the first start fails with "unable to open database
    file". Raises SettingsError naming the folder when it cannot be created.
    """
    if is_memory_url(url) or not url.database:
        return
    folder = Path(_file_path(url)).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"Cannot create the folder {folder} for the SQLite database ({exc.strerror}). Check "
            "BATON_API_DATABASE_CONNECTION_URL or BATON_HOME."
        ) from exc


def _file_path(url: sa.URL) -> str:
    """The file of a SQLite database URL (a `file:` URI's path without its query)."""
    return (url.database or "").removeprefix("file:").split("?", 1)[0]


class SQLiteDialect(DatabaseDialect):
    name = "sqlite"
    serialize_writes = True

    def engine_options(
        self,
        url: sa.URL,
        *,
        timeout: float,
        connection_timeout: float,
        pool_size: int,
        max_overflow: int,
        pool_recycle: int,
        isolation_level: str,
        for_migrations: bool,
    ) -> dict[str, Any]:
        ensure_database_directory(url)
        options: dict[str, Any] = {
            "connect_args": {"timeout": max(timeout, 30.0)},
            # Database.read() and write() always end their transaction, so the pool's own rollback on check-in
            # would be a wasted round trip to the driver's thread on every request.
            "pool_reset_on_return": None,
        }
        if is_memory_url(url):
            # One connection: a shared-cache memory database reports table locks instead of waiting for them.
            options.update(poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0, pool_recycle=-1)
        else:
            # Writes are serialised anyway; a few reader connections suffice, and each keeps its own page cache.
            options.update(
                pool_size=min(max(pool_size, 1), SQLITE_MAX_POOL_SIZE),
                max_overflow=min(max_overflow, SQLITE_MAX_POOL_SIZE),
                pool_recycle=pool_recycle,
            )
        return options

    def configure_engine(self, engine: AsyncEngine, *, timeout: float, for_migrations: bool) -> None:
        memory = is_memory_url(engine.url)
        busy_timeout_ms = int(max(timeout, 30.0) * 1000)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from the driver so BEGIN is ours (and DDL is transactional).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_SIZE_KIB}")
            cursor.execute("PRAGMA temp_store = MEMORY")
            # Batch migrations rebuild tables; foreign keys must be off while they do.
            cursor.execute(f"PRAGMA foreign_keys = {'OFF' if for_migrations else 'ON'}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: sa.Connection) -> None:
            mode = connection.get_execution_options().get(BEGIN_MODE_OPTION, "DEFERRED")
            connection.exec_driver_sql(f"BEGIN {mode}")

    def workspace_store(self, url: sa.URL, workspace_id: uuid.UUID, instance: str) -> WorkspaceStore:
        # A database file of its own beside the main one: a connection of the workspace's pool opens that file only.
        # (ATTACH on shared connections would need every connection to attach every workspace, and SQLite attaches
        # at most ten databases to a connection.)
        if is_memory_url(url):
            name = f"file:baton-{instance}-workspace-{workspace_id.hex}"
            return WorkspaceStore(
                url=url.set(database=name, query={"mode": "memory", "cache": "shared", "uri": "true"}), schema=None
            )
        path = Path(_file_path(url))
        sibling = path.with_name(f"{path.stem}.workspace-{workspace_id.hex}{path.suffix or '.db'}")
        return WorkspaceStore(url=url.set(database=str(sibling), query={}), schema=None)

    def remove_store_files(self, store: WorkspaceStore) -> None:
        if is_memory_url(store.url):
            return
        path = _file_path(store.url)
        for suffix in SQLITE_SIDE_FILES:
            with contextlib.suppress(FileNotFoundError):
                Path(path + suffix).unlink()

    def insert(self, table: sa.Table) -> Any:
        return sqlite.insert(table)

    def is_busy_error(self, exc: BaseException) -> bool:
        text = str(exc).lower()
        return "database is locked" in text or "database table is locked" in text or "busy" in text

    def write_execution_options(self) -> dict[str, Any]:
        return {BEGIN_MODE_OPTION: "IMMEDIATE"}

    def not_indexed(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        # SQLite's unary plus: the same value, but no index on it is used. Without statistics SQLite prefers an
        # equality on an index's first column to a short range on another's.
        return UnaryExpression(column, operator=custom_op("+"), type_=column.type)

    def json_contains(self, column: sa.ColumnElement[Any], values: list[Any]) -> sa.ColumnElement[bool]:
        if not values:
            return sa.true()
        return sa.and_(*(self._has_element(column, value) for value in values))

    def json_overlaps(self, column: sa.ColumnElement[Any], values: list[Any]) -> sa.ColumnElement[bool]:
        if not values:
            return sa.false()
        return sa.or_(*(self._has_element(column, value) for value in values))

    def json_array_length(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        return sa.func.json_array_length(column, type_=sa.Integer)

    def epoch_seconds(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[float]:
        return sa.type_coerce(self._micros_since_epoch(column) / sa.literal(1e6, sa.Float), sa.Float)

    def seconds_since(self, column: sa.ColumnElement[Any], moment: dt.datetime) -> sa.ColumnElement[float]:
        moment_micros = (moment.astimezone(dt.UTC) - EPOCH) // dt.timedelta(microseconds=1)
        difference = self._micros_since_epoch(column) - moment_micros
        return sa.type_coerce(difference / sa.literal(1e6, sa.Float), sa.Float)

    @staticmethod
    def _micros_since_epoch(column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        # Integer arithmetic on the stored text 'YYYY-MM-DD HH:MM:SS.ffffff': strftime('%s') gives the whole
        # seconds, characters 21-26 the microseconds. julianday() would round to the millisecond and then lose
        # a few microseconds in floating point, putting a time on a bucket's edge into the bucket before.
        whole = sa.cast(sa.func.strftime("%s", column), sa.Integer)
        return whole * 1_000_000 + sa.cast(sa.func.substr(column, 21, 6), sa.Integer)

    def truncate_to_integer(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        return sa.cast(value, sa.Integer)

    def json_array_elements(self, column: sa.ColumnElement[Any]) -> sa.TableValuedAlias:
        return sa.func.json_each(column).table_valued("value").alias()

    def json_object_text(self, value: sa.ColumnElement[Any], key: str) -> sa.ColumnElement[str]:
        # A quoted path step, so that dots in label names ("prefect.resource.id") are not path separators.
        return sa.func.json_extract(value, sa.literal(f'$."{key}"'), type_=sa.String)

    @staticmethod
    def _has_element(column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        each = sa.func.json_each(column).table_valued("value").alias()
        return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == value))

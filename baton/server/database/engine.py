"""The `Database`: one async engine per process and the unit of work every model function runs in.

`read()` opens a transaction for queries; `write()` opens one for changes. On SQLite, writes are serialised inside
the process (SQLite allows one writer) and begin with BEGIN IMMEDIATE, so two writers never deadlock on a lock
upgrade; on PostgreSQL, writes run concurrently under READ COMMITTED (or the level the settings name) and models
lock the rows they change. Lock timeouts and lost connections surface as `ServiceUnavailable` (HTTP 503 with
Retry-After). `run_write()` runs a unit of work again when PostgreSQL aborts it for a concurrent transaction (a
serialization failure under REPEATABLE READ, a deadlock), so hot rows cost waiting, not errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple, TypedDict, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from baton.errors import ServiceUnavailable
from baton.server.database.change_marks import ChangeMarks
from baton.server.database.dialects import DatabaseDialect, dialect_for_url, is_memory_url
from baton.server.database.dialects.base import WorkspaceStore
from baton.server.database.errors import is_transaction_conflict, sqlstate
from baton.server.database.types import dump_json, load_json
from baton.server.database.write_lock import WriteLock

if TYPE_CHECKING:
    from baton.settings import Settings

# Seconds a client is told to wait after a busy database; short, since busy periods are short.
BUSY_RETRY_AFTER_SECONDS = 1
DEFAULT_ISOLATION_LEVEL = "READ COMMITTED"
# Runs of a unit of work aborted by a concurrent transaction before the caller gets the 503: under REPEATABLE READ
# each waiter on a hot row loses to the one before it, so a queue of waiters needs several rounds.
CONFLICT_ATTEMPTS = 12
# The pause before a new attempt grows from this, doubling, up to the cap; random within it so that the losers of
# one round do not all collide again in the next.
CONFLICT_BACKOFF_SECONDS = 0.005
CONFLICT_BACKOFF_CAP_SECONDS = 0.25

logger = logging.getLogger("baton.database")
Result = TypeVar("Result")


def make_url(url: str | sa.URL) -> sa.URL:
    """Parse a connection URL; raises ValidationFailed (via the dialect lookup) for an unsupported scheme."""
    parsed = sa.make_url(url)
    dialect_for_url(parsed)
    return parsed


class _EngineOptions(TypedDict):
    """The `Database` keyword arguments a sibling for migrations inherits."""

    timeout: float
    connection_timeout: float
    pool_size: int
    max_overflow: int
    pool_recycle: int
    isolation_level: str
    echo: bool


class PoolUsage(NamedTuple):
    """The use of one process's connection pool (see `Database.pool_usage`)."""

    size: int
    checked_out: int
    overflow: int


class Database:
    """A connection pool plus the read/write unit of work, for one database URL.

    A `Database` is the unit of work of one workspace: the main one serves the default workspace and the global
    tables (identity, audit, the workspaces), and `for_workspace` gives the unit of work of another, whose
    connections reach that workspace's store only (a schema every table name is translated into, or a database of
    its own). Model functions take the connection they are given, so what they can reach is decided here.
    """

    #: The workspace this unit of work serves (None: the default workspace and the global tables).
    workspace_id: uuid.UUID | None = None
    #: Where its tables live (None for the main database).
    store: WorkspaceStore | None = None

    def __init__(
        self,
        url: str | sa.URL,
        *,
        timeout: float = 10.0,
        connection_timeout: float = 5.0,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_recycle: int = 3600,
        isolation_level: str = DEFAULT_ISOLATION_LEVEL,
        echo: bool = False,
        for_migrations: bool = False,
    ) -> None:
        self.url = make_url(url)
        self.dialect: DatabaseDialect = dialect_for_url(self.url)
        options = self.dialect.engine_options(
            self.url,
            timeout=timeout,
            connection_timeout=connection_timeout,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=pool_recycle,
            isolation_level=isolation_level,
            for_migrations=for_migrations,
        )
        self.engine: AsyncEngine = create_async_engine(
            self.url, echo=echo, json_serializer=dump_json, json_deserializer=load_json, **options
        )
        self.dialect.configure_engine(self.engine, timeout=timeout, for_migrations=for_migrations)
        self._write_lock = WriteLock() if self.dialect.serialize_writes else None
        self._write_options = self.dialect.write_execution_options()
        self._keeper: AsyncConnection | None = None
        self._owns_engine = True
        self._workspaces: dict[uuid.UUID, Database] = {}
        self._transaction_statement: str | None = None
        #: Write transactions ended in each store through this database or its workspaces' units of work.
        self.change_marks = ChangeMarks()
        self._settings_kwargs = _EngineOptions(
            timeout=timeout,
            connection_timeout=connection_timeout,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=pool_recycle,
            isolation_level=isolation_level,
            echo=echo,
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, for_migrations: bool = False) -> Database:
        """A Database configured from a `baton.settings.Settings`."""
        return cls(
            settings.database_url,
            timeout=settings.api_database_timeout,
            connection_timeout=settings.api_database_connection_timeout,
            pool_size=settings.api_database_pool_size,
            max_overflow=settings.api_database_max_overflow,
            pool_recycle=settings.api_database_pool_recycle,
            isolation_level=settings.api_database_isolation_level,
            echo=settings.api_database_echo,
            for_migrations=for_migrations,
        )

    def migration_database(self) -> Database:
        """A sibling Database whose connections have SQLite foreign keys off, for running migrations (of the same
        store: see `store_schema`)."""
        return Database(self.url, for_migrations=True, **self._settings_kwargs)

    @property
    def store_schema(self) -> str | None:
        """The schema every table name is translated into on this unit of work's connections (None: untranslated)."""
        return self.store.schema if self.store is not None else None

    def for_workspace(self, workspace_id: uuid.UUID | None) -> Database:
        """The unit of work of workspace `workspace_id` (None: the default workspace, this database), made once and
        kept. It does not check that the workspace exists: callers resolve the workspace first."""
        if workspace_id is None or workspace_id == self.workspace_id:
            return self
        if self.workspace_id is not None:
            raise ValueError("for_workspace is called on the main database, not on a workspace's")
        database = self._workspaces.get(workspace_id)
        if database is None:
            store = self.dialect.workspace_store(self.url, workspace_id, instance=f"{id(self):x}")
            database = self._bound_to(store) if store.url == self.url else Database(store.url, **self._settings_kwargs)
            database.workspace_id = workspace_id
            database.store = store
            database.change_marks = self.change_marks
            self._workspaces[workspace_id] = database
        return database

    async def forget_workspace(self, workspace_id: uuid.UUID) -> None:
        """Close the connections of a workspace's unit of work (before its store is removed)."""
        database = self._workspaces.pop(workspace_id, None)
        if database is not None:
            await database.dispose()

    def _bound_to(self, store: WorkspaceStore) -> Database:
        # The same pool and write lock, every statement's table names translated into the store's schema.
        database = copy.copy(self)
        database.engine = self.engine.execution_options(schema_translate_map={None: store.schema})
        database._transaction_statement = self.dialect.store_transaction_statement(store)
        database._owns_engine = False
        database._keeper = None
        database._workspaces = {}
        return database

    @property
    def kind(self) -> str:
        """The database engine's name as people write it: "PostgreSQL" or "SQLite"."""
        return "PostgreSQL" if self.dialect.name == "postgresql" else "SQLite"

    @property
    def is_memory(self) -> bool:
        return self.dialect.name == "sqlite" and is_memory_url(self.url)

    async def open(self) -> None:
        """Connect once; for an in-memory database, keep a connection so the data outlives every session."""
        if self.is_memory and self._keeper is None:
            self._keeper = await self._guarded_connect()
            return
        async with self.read() as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection (and the in-memory keeper), the workspaces' units of work included."""
        for workspace_id in list(self._workspaces):
            await self.forget_workspace(workspace_id)
        if self._keeper is not None:
            await self._keeper.close()
            self._keeper = None
        if self._owns_engine:
            await self.engine.dispose()

    async def is_reachable(self) -> bool:
        """True when a trivial query succeeds."""
        try:
            async with self.read() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except (ServiceUnavailable, OSError, sa_exc.SQLAlchemyError):
            return False
        return True

    def pool_usage(self) -> PoolUsage:
        """This process's connection pool: its configured size, the connections in use and those open beyond the
        size (all 0 for a pool that does not count them)."""
        pool = self.engine.pool
        if not isinstance(pool, sa.pool.QueuePool):
            return PoolUsage(size=0, checked_out=0, overflow=0)
        return PoolUsage(size=pool.size(), checked_out=pool.checkedout(), overflow=max(pool.overflow(), 0))

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction that is rolled back at the end (for queries only)."""
        async with self._translate_errors():
            async with self.engine.connect() as connection:
                try:
                    if self._transaction_statement is not None:
                        await connection.exec_driver_sql(self._transaction_statement)
                    yield connection
                finally:
                    if connection.in_transaction():
                        await connection.rollback()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction, committed when the block exits without an error; the store's change
        mark moves once it ended (`change_marks`)."""
        try:
            if self._write_lock is None:
                async with self._write_transaction() as connection:
                    yield connection
                return
            async with self._write_lock.hold():
                async with self._write_transaction() as connection:
                    yield connection
        finally:
            self.change_marks.bump(self.workspace_id)

    async def run_write(self, work: Callable[[AsyncConnection], Awaitable[Result]]) -> Result:
        """`work(connection)` in a write transaction, committed; run again in a new transaction (up to
        CONFLICT_ATTEMPTS in all) when the database aborts it for a concurrent one. `work` must have no effect
        outside the transaction. Raises what `write()` raises, ServiceUnavailable once the attempts are spent."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                async with self.write() as connection:
                    return await work(connection)
            except ServiceUnavailable as exc:
                if attempt == CONFLICT_ATTEMPTS or not is_transaction_conflict(exc.__cause__):
                    raise
                logger.warning(
                    "A concurrent transaction aborted this one (SQLSTATE %s); retrying the transaction",
                    sqlstate(exc.__cause__) if exc.__cause__ is not None else None,
                )
            ceiling = min(CONFLICT_BACKOFF_CAP_SECONDS, CONFLICT_BACKOFF_SECONDS * 2 ** (attempt - 1))
            await asyncio.sleep(random.uniform(0, ceiling))
        raise AssertionError("unreachable: the last attempt returns or raises")

    @contextlib.asynccontextmanager
    async def _write_transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._translate_errors():
            async with self.engine.connect() as connection:
                await connection.execution_options(**self._write_options)
                async with connection.begin():
                    if self._transaction_statement is not None:
                        await connection.exec_driver_sql(self._transaction_statement)
                    yield connection

    async def _guarded_connect(self) -> AsyncConnection:
        async with self._translate_errors():
            return await self.engine.connect()

    @contextlib.asynccontextmanager
    async def _translate_errors(self) -> AsyncIterator[None]:
        try:
            yield
        except sa_exc.IntegrityError:
            raise
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DBAPIError) as exc:
            if self.dialect.is_busy_error(exc) or isinstance(exc, sa_exc.InterfaceError) or exc.connection_invalidated:
                raise ServiceUnavailable(
                    "The database is busy or unreachable; retry shortly.", BUSY_RETRY_AFTER_SECONDS
                ) from exc
            raise
        except TimeoutError as exc:
            # A statement or connection that ran out of time: the database is busy (a lock held) or unreachable.
            raise ServiceUnavailable(
                f"The database at {self.url.render_as_string(hide_password=True)} did not answer in time "
                "(busy or unreachable); retry shortly.",
                BUSY_RETRY_AFTER_SECONDS,
            ) from exc
        except OSError as exc:
            raise ServiceUnavailable(
                f"Cannot reach the database at {self.url.render_as_string(hide_password=True)}: {exc}",
                BUSY_RETRY_AFTER_SECONDS,
            ) from exc

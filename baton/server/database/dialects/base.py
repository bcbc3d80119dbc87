"""What differs between database engines, behind one small interface. Models never branch on the dialect."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from baton.server.database.engine import Database


@dataclass(frozen=True)
class AfterRecording:
    """What runs in a batch's recording transaction after the batch is stored (see
    `DatabaseDialect.record_event_batch`): `run`, with the batch's events that were not stored before (the first of
    each id, as queued). A dialect may leave out those whose name matches none of the glob patterns `names` (None:
    every name), so that events nobody looks at are not decoded."""

    run: Callable[[AsyncConnection, list[dict[str, Any]]], Awaitable[None]]
    names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class OnConflict:
    """What an insert does with a row whose `id` is already stored: nothing (the default), or set the `update`
    columns from the new row, and only where the stored row's `if_newer` column is NULL or earlier than the new row's
    (so that an older row never overwrites a newer one)."""

    update: tuple[str, ...] = ()
    if_newer: str | None = None


@dataclass(frozen=True)
class PreparedInsert:
    """An insert with its bind parameters built: made before a transaction opens, so that the transaction holds its
    row locks only for the round trip (callers that share rows wait on each other for less)."""

    statement: sa.Executable | None
    parameters: Any

    async def execute(self, connection: AsyncConnection) -> None:
        if self.statement is not None:
            await connection.execute(self.statement, self.parameters)


@dataclass(frozen=True)
class WorkspaceStore:
    """Where one workspace's tables live: a database `url` and, where the workspace shares the main database's
    engine, the `schema` every table name is translated into (None: the store is a database of its own)."""

    url: sa.URL
    schema: str | None


class DatabaseDialect(ABC):
    """One database engine's settings, connection set-up, upserts and error classification."""

    name: str
    #: Whether writes must be serialised inside the process (SQLite has a single writer).
    serialize_writes: bool = False

    @abstractmethod
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
        """Keyword arguments for `create_async_engine` for this URL; `isolation_level` is an SQL level name
        ("READ COMMITTED", ...), which an engine with a single writer may ignore."""

    def configure_engine(self, engine: AsyncEngine, *, timeout: float, for_migrations: bool) -> None:
        """Attach connection listeners (pragmas, transaction handling). The default attaches none."""
        return None

    @abstractmethod
    def workspace_store(self, url: sa.URL, workspace_id: uuid.UUID, instance: str) -> WorkspaceStore:
        """Where the tables of workspace `workspace_id` live, for the main database at `url`; `instance` tells apart
        main databases that share a URL in one process (in-memory ones)."""

    def create_store_statements(self, store: WorkspaceStore) -> list[str]:
        """The statements, run on the main database, that make room for a new store (none by default)."""
        return []

    def store_transaction_statement(self, store: WorkspaceStore) -> str | None:
        """A statement run first in every transaction of a store that shares the main database's engine, for the
        SQL that is not translated (the dialect's own text statements); None when there is none to run."""
        return None

    def drop_store_statements(self, store: WorkspaceStore) -> list[str]:
        """The statements, run on the main database, that remove a store and everything in it (none by default)."""
        return []

    def remove_store_files(self, store: WorkspaceStore) -> None:
        """Delete the files of a store whose connections are closed (none by default)."""
        return None

    @abstractmethod
    def insert(self, table: sa.Table) -> Any:
        """A dialect INSERT that supports `on_conflict_do_nothing` / `on_conflict_do_update`."""

    @abstractmethod
    def is_busy_error(self, exc: BaseException) -> bool:
        """True when `exc` means "try again shortly": a lock timeout, a serialisation failure, a lost connection."""

    def prepare_insert(
        self, table: sa.Table, rows: Sequence[dict[str, Any]], on_conflict: OnConflict
    ) -> PreparedInsert:
        """The insert of `rows` (dicts with the same keys) into `table`, doing `on_conflict` with a stored id; nothing
        for no rows. The base runs the dialect INSERT with its ON CONFLICT clause as an executemany."""
        if not rows:
            return PreparedInsert(None, [])
        return PreparedInsert(_conflict_insert(self, table, on_conflict), list(rows))

    async def insert_rows(
        self, connection: AsyncConnection, table: sa.Table, rows: Sequence[dict[str, Any]], on_conflict: OnConflict
    ) -> None:
        """Insert `rows` (dicts with the same keys) into `table`, doing `on_conflict` with a stored id."""
        await self.prepare_insert(table, rows, on_conflict).execute(connection)

    async def insert_new_rows(
        self, connection: AsyncConnection, table: sa.Table, rows: Sequence[dict[str, Any]]
    ) -> set[Any]:
        """Insert `rows` (dicts with the same keys) into `table`, skipping ids already stored; the ids of the rows
        this statement inserted (a row another transaction inserts at the same time belongs to whichever commits it,
        and only that one returns its id)."""
        if not rows:
            return set()
        statement = self.insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
        return set((await connection.execute(statement, list(rows))).scalars())

    async def record_event_batch(
        self, database: Database, batch: str | list[dict[str, Any]], then: AfterRecording | None = None
    ) -> None:
        """Store a batch of queued events (its JSON text, or the decoded list) and the task runs its client task-run
        events describe, and release the concurrency slots of the task runs it finishes, in one transaction. Both
        writes are idempotent (a stored event or state id is skipped, a run only takes a newer state). `then`, when
        given, runs last in the same transaction with the batch's events that were new (none for a redelivered
        batch), so that what it writes commits together with the events or not at all.

        The base runs the Python recorder (`models/events/recorder.py`), the reference for every faster version."""
        # Imported here: the models import this package.
        from baton.server.models.events.recorder import record_events_in_python

        await record_events_in_python(database, orjson.loads(batch) if isinstance(batch, str) else batch, then)

    async def lock_keys(self, connection: AsyncConnection, keys: Sequence[int]) -> None:
        """Hold a lock on each of `keys` (64-bit integers) until the transaction ends, taken in key order; nothing
        where writers are serialised anyway (SQLite)."""
        return None

    def write_execution_options(self) -> dict[str, Any]:
        """Execution options for a connection that will write (SQLite takes its write lock up front)."""
        return {}

    def json_contains(self, column: sa.ColumnElement[Any], values: list[Any]) -> sa.ColumnElement[bool]:
        """A condition that the JSON array `column` contains every one of `values`."""
        raise NotImplementedError

    def not_indexed(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """`column`, in a form that the planner does not look up through an index: for a condition that only
        filters the rows another, more selective index finds. The default is the column (PostgreSQL's statistics
        choose well)."""
        return column

    def json_overlaps(self, column: sa.ColumnElement[Any], values: list[Any]) -> sa.ColumnElement[bool]:
        """A condition that the JSON array `column` contains at least one of `values`."""
        raise NotImplementedError

    def json_array_length(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        """The number of elements of the JSON array `column`."""
        raise NotImplementedError

    def epoch_seconds(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[float]:
        """The timestamp `column` as (fractional) seconds since 1970-01-01 UTC."""
        raise NotImplementedError

    def seconds_since(self, column: sa.ColumnElement[Any], moment: dt.datetime) -> sa.ColumnElement[float]:
        """Seconds from the aware datetime `moment` to the timestamp `column`, exact at least to the millisecond (so
        that a time on a bucket's edge falls in the bucket it starts)."""
        raise NotImplementedError

    def truncate_to_integer(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        """The number `value` truncated toward zero, as an integer."""
        raise NotImplementedError

    def json_array_elements(self, column: sa.ColumnElement[Any]) -> sa.TableValuedAlias:
        """A table of the elements of the JSON array `column`, one per row in its column `value`; correlated when
        used inside a subquery on `column`'s table."""
        raise NotImplementedError

    def json_object_text(self, value: sa.ColumnElement[Any], key: str) -> sa.ColumnElement[str]:
        """The text of the string member `key` of the JSON object `value` (NULL when it has none)."""
        raise NotImplementedError


@functools.lru_cache(maxsize=32)
def _conflict_insert(dialect: DatabaseDialect, table: sa.Table, on_conflict: OnConflict) -> Any:
    insert = dialect.insert(table)
    if not on_conflict.update:
        return insert.on_conflict_do_nothing(index_elements=["id"])
    where = None
    if on_conflict.if_newer is not None:
        stored = table.c[on_conflict.if_newer]
        where = sa.or_(stored.is_(None), stored < insert.excluded[on_conflict.if_newer])
    return insert.on_conflict_do_update(
        index_elements=["id"], set_={name: insert.excluded[name] for name in on_conflict.update}, where=where
    )

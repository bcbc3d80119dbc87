"""PostgreSQL through asyncpg: READ COMMITTED unless configured otherwise, statement and connect timeouts, JSONB
operators."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql

from baton.server.database.dialects.base import DatabaseDialect, OnConflict, PreparedInsert, WorkspaceStore
from baton.server.database.dialects.postgresql_array_insert import (
    column_arrays,
    insert_statement,
    prepare_array_insert,
)
from baton.server.database.errors import is_refused_data, sqlstate
from baton.server.database.types import Timestamp, dump_json

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from baton.server.database.dialects.base import AfterRecording
    from baton.server.database.engine import Database

logger = logging.getLogger("baton.recorder")

# SQLSTATEs that mean "retry": serialization failure, deadlock, lock timeout, too many connections, shutting down.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03", "53300", "57P01", "57P02", "57P03", "08000", "08003", "08006"}
# Statements each connection keeps prepared (asyncpg's default is 100). A workspace's statements are other strings
# (its schema is in them), so a connection that serves a few workspaces in turn evicted and prepared again at 100:
# a round trip to the server and a parse for every eviction.
PREPARED_STATEMENT_CACHE_SIZE = 500


# Advisory transaction locks on the `keys` parameter's values, taken in order. Built once: building the statement cost
# more than executing it (an evaluation of the triggers takes one per batch).
_KEYS_IN_ORDER = (
    sa.select(sa.func.unnest(sa.bindparam("keys", type_=postgresql.ARRAY(sa.BigInteger))).label("key"))
    .order_by(sa.text("1"))
    .subquery()
)
_LOCK_KEYS = sa.select(sa.func.pg_advisory_xact_lock(_KEYS_IN_ORDER.c.key))


class PostgreSQLDialect(DatabaseDialect):
    name = "postgresql"

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
        return {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "pool_recycle": pool_recycle,
            # No ping on checkout (a round trip per request): a dropped connection fails its request with a 503,
            # SQLAlchemy then invalidates the pool and the next request reconnects.
            "pool_pre_ping": False,
            "isolation_level": isolation_level,
            # Sessions in UTC: a time without a zone that PostgreSQL reads from text (the events recorder's batch
            # statement) is UTC, as it is to Python.
            "connect_args": {
                # A migration may build an index over millions of rows: no statement timeout for it.
                "command_timeout": None if for_migrations else timeout,
                "timeout": connection_timeout,
                "server_settings": {"timezone": "UTC"},
                "prepared_statement_cache_size": PREPARED_STATEMENT_CACHE_SIZE,
            },
        }

    def workspace_store(self, url: sa.URL, workspace_id: uuid.UUID, instance: str) -> WorkspaceStore:
        # A schema in the same database: one connection pool serves every workspace, and the schema translation
        # qualifies every table name, so a statement cannot fall back to another schema through the search path.
        return WorkspaceStore(url=url, schema=f"workspace_{workspace_id.hex}")

    def create_store_statements(self, store: WorkspaceStore) -> list[str]:
        return [f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"']

    def configure_engine(self, engine: AsyncEngine, *, timeout: float, for_migrations: bool) -> None:
        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _enter_store(
            connection: sa.Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            enter_workspace_schema(connection, cursor, context)

    def drop_store_statements(self, store: WorkspaceStore) -> list[str]:
        return [f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE']

    def insert(self, table: sa.Table) -> Any:
        return postgresql.insert(table)

    def is_busy_error(self, exc: BaseException) -> bool:
        if sqlstate(exc) in RETRYABLE_SQLSTATES:
            return True
        text = str(exc).lower()
        return "connection was closed" in text or "connection refused" in text or "timeout" in text

    def prepare_insert(
        self, table: sa.Table, rows: Sequence[dict[str, Any]], on_conflict: OnConflict
    ) -> PreparedInsert:
        """One `INSERT ... SELECT FROM unnest(arrays)` (see `postgresql_array_insert`)."""
        return prepare_array_insert(table, rows, on_conflict)

    async def insert_new_rows(
        self, connection: AsyncConnection, table: sa.Table, rows: Sequence[dict[str, Any]]
    ) -> set[Any]:
        """The array insert (`postgresql_array_insert`) with `RETURNING id`."""
        if not rows:
            return set()
        columns = tuple(rows[0])
        statement = insert_statement(table, columns, OnConflict(), returning_ids=True)
        return set((await connection.execute(statement, column_arrays(table, columns, rows))).scalars())

    async def record_event_batch(
        self, database: Database, batch: str | list[dict[str, Any]], then: AfterRecording | None = None
    ) -> None:
        """PostgreSQL reads the batch's JSON text itself and records it in one statement (`postgresql_event_batch`);
        the events of a shape it does not take have their task runs recorded by the Python recorder in the same
        transaction, and a batch it refuses whole (an impossible date, a run whose flow run is gone) is recorded by
        the Python recorder alone, row by row."""
        # Imported here: the statement follows the recorder's rules, and the models import this package.
        from baton.server.database.dialects.postgresql_event_batch import record_in_one_statement

        batch_json = batch if isinstance(batch, str) else dump_json(batch)
        try:
            await record_in_one_statement(database, batch_json, then)
            return
        except sa_exc.DBAPIError as exc:
            if not is_refused_data(exc):
                raise
            logger.info("Recording a batch of events row by row: PostgreSQL refused it whole (%s)", exc.orig)
        await super().record_event_batch(database, batch_json, then)

    async def lock_keys(self, connection: AsyncConnection, keys: Sequence[int]) -> None:
        if keys:
            await connection.execute(_LOCK_KEYS, {"keys": sorted(set(keys))})

    def json_contains(self, column: sa.ColumnElement[Any], values: list[Any]) -> sa.ColumnElement[bool]:
        return sa.type_coerce(column, postgresql.JSONB).contains(sa.cast(values, postgresql.JSONB))

    def json_overlaps(self, column: sa.ColumnElement[Any], values: list[Any]) -> sa.ColumnElement[bool]:
        if not values:
            return sa.false()
        return sa.or_(*(self.json_contains(column, [value]) for value in values))

    def json_array_length(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        return sa.func.jsonb_array_length(sa.type_coerce(column, postgresql.JSONB), type_=sa.Integer)

    def epoch_seconds(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[float]:
        return sa.cast(sa.extract("epoch", column), sa.Float)

    def seconds_since(self, column: sa.ColumnElement[Any], moment: dt.datetime) -> sa.ColumnElement[float]:
        # The interval's epoch is an exact numeric; only the final cast rounds.
        return sa.cast(sa.extract("epoch", column - sa.literal(moment, Timestamp())), sa.Float)

    def truncate_to_integer(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        # A plain cast would round to the nearest integer on PostgreSQL.
        return sa.cast(sa.func.trunc(value), sa.Integer)

    def json_array_elements(self, column: sa.ColumnElement[Any]) -> sa.TableValuedAlias:
        elements = sa.func.jsonb_array_elements(sa.type_coerce(column, postgresql.JSONB))
        return elements.table_valued(sa.column("value", postgresql.JSONB)).alias()

    def json_object_text(self, value: sa.ColumnElement[Any], key: str) -> sa.ColumnElement[str]:
        return sa.type_coerce(value, postgresql.JSONB)[key].astext


# Where a connection notes the transaction whose search path it set (see `enter_workspace_schema`).
_SEARCH_PATH_SET_IN = "baton_search_path_set_in"


def enter_workspace_schema(connection: sa.Connection, cursor: Any, context: Any) -> None:
    """Before the first text statement of a workspace's transaction (the fast paths' hand-written SQL, which names
    tables without a schema and which SQLAlchemy's schema translation does not reach), put the workspace's schema
    first on the search path, once per transaction (public stays on it for the pg_trgm operator classes). Other
    statements need nothing: their table names are translated. SET LOCAL ends with the transaction, so a pooled
    connection goes back to the main schema's path; a transaction without a fast path sends no extra statement."""
    compiled = getattr(context, "compiled", None)
    if compiled is None or not isinstance(getattr(compiled, "statement", None), sa.TextClause):
        return
    schema = (connection.get_execution_options().get("schema_translate_map") or {}).get(None)
    if schema is None:
        return
    transaction = connection.get_transaction()
    if transaction is None or connection.info.get(_SEARCH_PATH_SET_IN) is transaction:
        return
    cursor.execute(f'SET LOCAL search_path TO "{schema}", public')
    connection.info[_SEARCH_PATH_SET_IN] = transaction

"""Batch inserts on PostgreSQL as one `INSERT ... SELECT FROM unnest(arrays)`: one statement, one bind, one round trip.

An executemany sends a Bind/Execute pair per row and SQLAlchemy processes every parameter in Python; with a column
per array, asyncpg encodes each array in C and PostgreSQL plans the statement once, which on the events path costs
both the recorder and PostgreSQL less CPU per event. JSON values travel as text and are cast to jsonb in the
statement, so asyncpg's per-value JSON codec is not involved.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database.types import JSONType, Timestamp, dump_json

# PostgreSQL element type of the array that carries a column of this SQLAlchemy type (checked in order: subclasses
# first). JSON is carried as text and cast to jsonb per row.
_ARRAY_TYPES: tuple[tuple[type[Any], str], ...] = (
    (JSONType, "text"),
    (Timestamp, "timestamptz"),
    (sa.Uuid, "uuid"),
    (sa.BigInteger, "int8"),
    (sa.Integer, "int4"),
    (sa.Float, "float8"),
    (sa.Boolean, "bool"),
    (sa.String, "text"),
)


def by_id(row: dict[str, Any]) -> int:
    """Sort key of rows by their UUID `id` (the integer: comparing UUID objects is much slower)."""
    return row["id"].int


def _array_type(column: sa.Column[Any]) -> str:
    for sa_type, pg_type in _ARRAY_TYPES:
        if isinstance(column.type, sa_type):
            return pg_type
    raise TypeError(f"no array type for column {column.table}.{column.name} of type {column.type!r}")


@functools.lru_cache(maxsize=32)
def insert_statement(table: sa.Table, columns: tuple[str, ...], suffix: str = "") -> sa.TextClause:
    """`INSERT INTO table (columns) SELECT ... FROM unnest(:c0, :c1, ...)` followed by `suffix` (an ON CONFLICT
    clause); bind parameter `c<i>` is the list of values of column `columns[i]`."""
    arrays, selected = [], []
    for position, name in enumerate(columns):
        column = table.c[name]
        arrays.append(f"CAST(:c{position} AS {_array_type(column)}[])")
        selected.append(f"r.{name}::jsonb" if isinstance(column.type, JSONType) else f"r.{name}")
    return sa.text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS r({', '.join(columns)}) {suffix}"
    )


def column_arrays(table: sa.Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """The bind parameters of `insert_statement` for `rows` (dicts with every name in `columns`)."""
    parameters: dict[str, list[Any]] = {}
    for position, name in enumerate(columns):
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, JSONType):
            values = [None if value is None else dump_json(value) for value in values]
        parameters[f"c{position}"] = values
    return parameters


@dataclass(frozen=True)
class PreparedInsert:
    """An array insert with its bind parameters built: made before a transaction opens, so that the transaction
    holds its row locks only for the round trips (callers that share rows wait on each other for less)."""

    statement: sa.TextClause | None
    parameters: dict[str, list[Any]]

    async def execute(self, connection: AsyncConnection) -> None:
        if self.statement is not None:
            await connection.execute(self.statement, self.parameters)


def prepare_insert(
    table: sa.Table, columns: tuple[str, ...], rows: Sequence[dict[str, Any]], suffix: str
) -> PreparedInsert:
    """The insert of `rows` into `table` in one statement ending with `suffix` (PostgreSQL only); nothing for none."""
    if not rows:
        return PreparedInsert(None, {})
    return PreparedInsert(insert_statement(table, columns, suffix), column_arrays(table, columns, rows))


async def insert_rows(
    connection: AsyncConnection, table: sa.Table, columns: tuple[str, ...], rows: Sequence[dict[str, Any]], suffix: str
) -> None:
    """Insert `rows` into `table` in one statement ending with `suffix` (PostgreSQL only)."""
    await prepare_insert(table, columns, rows, suffix).execute(connection)

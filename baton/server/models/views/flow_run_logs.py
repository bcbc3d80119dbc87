"""A run's log lines for reading and following: keyset pages around a cursor, and lines since a moment; and the
run's current state. For flow runs (`read_flow_run_*`) and task runs (`read_task_run_*`) alike.

Every log query here starts with `flow_run_id = ?` (or `task_run_id = ?`) and orders by (timestamp, id), so it is
served by the index `ix_log__flow_run_id__timestamp` (or `ix_log__task_run_id__timestamp`): its cost grows with the
lines read, not with the size of the log table. The level and text conditions are checked on that run's rows only.
A text search in a flow run may instead read the run's lines holding the text's trigrams (PostgreSQL's
`trgm_ix_log__flow_run_id__message`), which is what a rare text in a run of a million lines needs; which of the two
is cheaper depends on the run's size and the text's rarity, so with a text the run id and the pattern are written
into the statement and planned for (a prepared statement's generic plan would guess both).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import Timestamp
from baton.server.models.filters.core import contains_text

# A position in a run's log: the (timestamp, id) of a line.
LogCursor = tuple[dt.datetime, uuid.UUID]


@dataclass(frozen=True)
class LogPage:
    """Lines in time order, and whether the same filter matches lines before the first and after the last."""

    rows: list[dict[str, Any]]
    more_before: bool
    more_after: bool


def _of_run(column: sa.ColumnElement[Any], run_id: uuid.UUID, text: str | None) -> sa.ColumnElement[bool]:
    return column == (sa.literal(run_id, sa.Uuid(), literal_execute=True) if text else run_id)


def _matching(run: sa.ColumnElement[bool], min_level: int, text: str | None) -> list[sa.ColumnElement[bool]]:
    column = t.log.c
    parts: list[sa.ColumnElement[bool]] = [run]
    if min_level > 0:
        parts.append(column.level >= min_level)
    if text:
        parts.append(contains_text(column.message, text, inline=True))
    return parts


def _position(cursor: LogCursor) -> sa.ColumnElement[Any]:
    return sa.tuple_(sa.literal(cursor[0], Timestamp()), sa.literal(cursor[1], sa.Uuid()))


_KEY = sa.tuple_(t.log.c.timestamp, t.log.c.id)
_COLUMNS = [t.log.c.id, t.log.c.timestamp, t.log.c.level, t.log.c.name, t.log.c.message, t.log.c.task_run_id]


async def read_flow_run_log_page(connection: AsyncConnection, flow_run_id: uuid.UUID, **query: Any) -> LogPage:
    """`limit` matching lines after `after`, else the last `limit` lines before `before` (or the newest `limit`)."""
    return await _read_log_page(connection, _of_run(t.log.c.flow_run_id, flow_run_id, query.get("text")), **query)


async def read_task_run_log_page(connection: AsyncConnection, task_run_id: uuid.UUID, **query: Any) -> LogPage:
    """As `read_flow_run_log_page`, for the lines a task run wrote."""
    return await _read_log_page(connection, _of_run(t.log.c.task_run_id, task_run_id, query.get("text")), **query)


async def _read_log_page(
    connection: AsyncConnection,
    run: sa.ColumnElement[bool],
    *,
    limit: int,
    min_level: int = 0,
    text: str | None = None,
    before: LogCursor | None = None,
    after: LogCursor | None = None,
) -> LogPage:
    parts = _matching(run, min_level, text)
    if after is not None:
        query = sa.select(*_COLUMNS).where(*parts, _KEY > _position(after))
        query = query.order_by(t.log.c.timestamp, t.log.c.id).limit(limit + 1)
        rows = [dict(row) for row in (await connection.execute(query)).mappings()]
        return LogPage(rows[:limit], more_before=True, more_after=len(rows) > limit)
    if before is not None:
        parts.append(_KEY < _position(before))
    query = sa.select(*_COLUMNS).where(*parts).order_by(t.log.c.timestamp.desc(), t.log.c.id.desc()).limit(limit + 1)
    rows = [dict(row) for row in (await connection.execute(query)).mappings()]
    return LogPage(list(reversed(rows[:limit])), more_before=len(rows) > limit, more_after=before is not None)


async def read_flow_run_logs_written_since(
    connection: AsyncConnection, flow_run_id: uuid.UUID, **query: Any
) -> list[dict[str, Any]]:
    """Up to `limit` matching lines of the run in the order they were written (`created`, then id): those written at
    or after `since` and past the key `after` (a (created, id) pair). A live page follows this, not the lines'
    own timestamps, so a line stamped long before it arrived still reaches the page. Read through the index on
    `created` (the recent lines of every run), whatever the size of the run's log."""
    run = dialect_of(connection).not_indexed(t.log.c.flow_run_id) == flow_run_id
    return await _read_logs_written_since(connection, run, **query)


async def read_task_run_logs_written_since(
    connection: AsyncConnection, task_run_id: uuid.UUID, **query: Any
) -> list[dict[str, Any]]:
    """As `read_flow_run_logs_written_since`, for the lines a task run wrote."""
    run = dialect_of(connection).not_indexed(t.log.c.task_run_id) == task_run_id
    return await _read_logs_written_since(connection, run, **query)


async def _read_logs_written_since(
    connection: AsyncConnection,
    run: sa.ColumnElement[bool],
    *,
    limit: int,
    since: dt.datetime,
    after: LogCursor | None = None,
    min_level: int = 0,
    text: str | None = None,
) -> list[dict[str, Any]]:
    parts = _matching(run, min_level, text)
    parts.append(t.log.c.created >= sa.literal(since, Timestamp()))
    if after is not None:
        parts.append(sa.tuple_(t.log.c.created, t.log.c.id) > _position(after))
    query = sa.select(*_COLUMNS, t.log.c.created).where(*parts).order_by(t.log.c.created, t.log.c.id).limit(limit)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_flow_run_logs_forward(
    connection: AsyncConnection, flow_run_id: uuid.UUID, **query: Any
) -> list[dict[str, Any]]:
    """Up to `limit` matching lines in time order: those timestamped at or after `since` (all without it) that come
    after `after` (to page on)."""
    return await _read_logs_forward(connection, _of_run(t.log.c.flow_run_id, flow_run_id, query.get("text")), **query)


async def _read_logs_forward(
    connection: AsyncConnection,
    run: sa.ColumnElement[bool],
    *,
    limit: int,
    since: dt.datetime | None = None,
    after: LogCursor | None = None,
    min_level: int = 0,
    text: str | None = None,
) -> list[dict[str, Any]]:
    parts = _matching(run, min_level, text)
    if since is not None:
        parts.append(t.log.c.timestamp >= sa.literal(since, Timestamp()))
    if after is not None:
        parts.append(_KEY > _position(after))
    query = sa.select(*_COLUMNS).where(*parts).order_by(t.log.c.timestamp, t.log.c.id).limit(limit)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


def _state_summary(table: sa.Table) -> sa.Select[Any]:
    columns = ("state_id", "state_type", "state_name", "state_timestamp", "start_time", "end_time", "total_run_time")
    return sa.select(*(table.c[name] for name in (*columns, "run_count"))).where(table.c.id == sa.bindparam("run_id"))


_FLOW_RUN_STATE = _state_summary(t.flow_run)
_TASK_RUN_STATE = _state_summary(t.task_run)


async def read_flow_run_state_summary(connection: AsyncConnection, flow_run_id: uuid.UUID) -> dict[str, Any] | None:
    """The run's current state and timing columns (a primary-key lookup); None when there is no such run."""
    row = (await connection.execute(_FLOW_RUN_STATE, {"run_id": flow_run_id})).mappings().first()
    return dict(row) if row else None


async def read_task_run_state_summary(connection: AsyncConnection, task_run_id: uuid.UUID) -> dict[str, Any] | None:
    """As `read_flow_run_state_summary`, for a task run."""
    row = (await connection.execute(_TASK_RUN_STATE, {"run_id": task_run_id})).mappings().first()
    return dict(row) if row else None

"""Data access for log lines."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.types import Timestamp, utcnow
from baton.server.models.filters.core import log_condition, log_order_by
from baton.server.models.written_since import read_written_since
from baton.server.schemas.actions import LogCreate
from baton.server.schemas.requests import LogFilterRequest

TRUNCATION_MARKER = "... [truncated by Baton: the message was {size} bytes, the limit is {limit}]"


def truncate_message(message: str, limit_bytes: int) -> str:
    """`message` unchanged if it fits in `limit_bytes` (UTF-8), else cut to fit and marked as truncated."""
    encoded = message.encode("utf-8")
    if len(encoded) <= limit_bytes:
        return message
    marker = TRUNCATION_MARKER.format(size=len(encoded), limit=limit_bytes)
    keep = max(limit_bytes - len(marker.encode("utf-8")), 0)
    return encoded[:keep].decode("utf-8", errors="ignore") + marker


async def create_logs(connection: AsyncConnection, logs: Sequence[LogCreate], max_message_bytes: int) -> int:
    """Insert every log line in one statement; over-long messages are truncated and marked. Returns the count."""
    if not logs:
        return 0
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "created": now,
            "updated": now,
            "name": log.name,
            "level": log.level,
            "message": truncate_message(log.message, max_message_bytes),
            "timestamp": log.timestamp,
            "flow_run_id": log.flow_run_id,
            "task_run_id": log.task_run_id,
        }
        for log in logs
    ]
    await connection.execute(sa.insert(t.log), rows)
    return len(rows)


async def filter_logs(
    connection: AsyncConnection, request: LogFilterRequest, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The log lines matching the filter of `request`, in its sort order, `limit` of them from `offset`."""
    return await read_logs(connection, log_condition(request.logs), log_order_by(request.sort), limit, offset)


async def read_logs(
    connection: AsyncConnection,
    condition: sa.ColumnElement[bool],
    order_by: list[Any],
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    query = sa.select(t.log).where(condition).order_by(*order_by).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def stream_flow_run_logs(
    connection: AsyncConnection, flow_run_id: uuid.UUID, page_size: int = 1000
) -> AsyncIterator[list[dict[str, Any]]]:
    """A run's logs in time order, one page at a time (keyset pagination: constant cost per page)."""
    last: tuple[Any, uuid.UUID] | None = None
    while True:
        query = sa.select(t.log).where(t.log.c.flow_run_id == flow_run_id)
        if last is not None:
            after = sa.tuple_(sa.literal(last[0], Timestamp()), sa.literal(last[1], sa.Uuid()))
            query = query.where(sa.tuple_(t.log.c.timestamp, t.log.c.id) > after)
        query = query.order_by(t.log.c.timestamp, t.log.c.id).limit(page_size)
        page = [dict(row) for row in (await connection.execute(query)).mappings()]
        if not page:
            return
        yield page
        last = (page[-1]["timestamp"], page[-1]["id"])
        if len(page) < page_size:
            return


async def read_written_log_ids(
    connection: AsyncConnection,
    since: dt.datetime,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[uuid.UUID, dt.datetime]]:
    """(id, created) of log lines written at or after `since` and past the key `after`, in (created, id) order: what
    the live log stream follows."""
    return await read_written_since(connection, t.log.c.id, t.log.c.created, since, after, limit)


async def read_logs_by_id(connection: AsyncConnection, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The log lines with these ids, in the order they were written (then by their own timestamp)."""
    if not ids:
        return []
    query = sa.select(t.log).where(t.log.c.id.in_(ids)).order_by(t.log.c.created, t.log.c.timestamp, t.log.c.id)
    return [dict(row) for row in (await connection.execute(query)).mappings()]

"""`read_written_since`: the keys of the rows a table got since a time, what a live stream follows (`events` by
`recorded`, `log` by `created`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


async def read_written_since(
    connection: AsyncConnection,
    id_column: sa.Column[Any],
    time_column: sa.Column[Any],
    since: dt.datetime,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[uuid.UUID, dt.datetime]]:
    """(id, time) of the rows whose `time_column` is at or after `since` and whose (time, id) is past `after`, in
    (time, id) order, `limit` of them (keyset pagination: constant cost per page)."""
    query = sa.select(id_column, time_column).where(time_column >= since)
    if after is not None:
        written, row_id = after
        query = query.where(sa.or_(time_column > written, sa.and_(time_column == written, id_column > row_id)))
    query = query.order_by(time_column, id_column).limit(limit)
    return [(row[0], row[1]) for row in await connection.execute(query)]

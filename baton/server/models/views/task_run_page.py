"""What the task run page reads besides the run itself: its parent flow run's name, its siblings (the other runs of
the same task in the same flow run, e.g. the items of a `.map`) and its newest log lines.

The log query starts with `task_run_id = ?` and orders by (timestamp, id), so it is served by the index
`ix_log__task_run_id__timestamp`; the level and text conditions are checked on that run's rows only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.types import Timestamp
from baton.server.models.filters.core import contains_text
from baton.server.models.views.run_follower import RunFollower

_LOG_COLUMNS = [t.log.c.id, t.log.c.timestamp, t.log.c.level, t.log.c.name, t.log.c.message, t.log.c.task_run_id]


async def read_flow_run_name(connection: AsyncConnection, flow_run_id: uuid.UUID | None) -> str | None:
    if flow_run_id is None:
        return None
    query = sa.select(t.flow_run.c.name).where(t.flow_run.c.id == flow_run_id)
    return (await connection.execute(query)).scalar_one_or_none()


async def read_task_run_siblings(
    connection: AsyncConnection, task_run: dict[str, Any], limit: int
) -> list[dict[str, Any]]:
    """Other task runs of the same flow run with the same task key, in dynamic-key (map index) order."""
    if task_run["flow_run_id"] is None:
        return []
    column = t.task_run.c
    query = (
        sa.select(column.id, column.name, column.dynamic_key, column.state_type, column.state_name, column.start_time)
        .where(
            column.flow_run_id == task_run["flow_run_id"],
            column.task_key == task_run["task_key"],
            column.id != task_run["id"],
        )
        .order_by(sa.func.length(column.dynamic_key), column.dynamic_key, column.id)
        .limit(limit)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


def _matching(task_run_id: uuid.UUID, min_level: int, text: str | None) -> list[sa.ColumnElement[bool]]:
    parts: list[sa.ColumnElement[bool]] = [t.log.c.task_run_id == task_run_id]
    if min_level > 0:
        parts.append(t.log.c.level >= min_level)
    if text:
        parts.append(contains_text(t.log.c.message, text))
    return parts


async def read_task_run_logs(
    connection: AsyncConnection, task_run_id: uuid.UUID, *, limit: int, min_level: int = 0, text: str | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """The newest `limit` matching lines in time order, and whether older matching lines were left out."""
    parts = _matching(task_run_id, min_level, text)
    query = (
        sa.select(*_LOG_COLUMNS).where(*parts).order_by(t.log.c.timestamp.desc(), t.log.c.id.desc()).limit(limit + 1)
    )
    rows = [dict(row) for row in (await connection.execute(query)).mappings()]
    return list(reversed(rows[:limit])), len(rows) > limit


async def read_task_run_logs_forward(
    connection: AsyncConnection,
    task_run_id: uuid.UUID,
    *,
    limit: int,
    since: dt.datetime | None = None,
    after: tuple[dt.datetime, uuid.UUID] | None = None,
    min_level: int = 0,
    text: str | None = None,
) -> list[dict[str, Any]]:
    """Up to `limit` matching lines in time order, timestamped at or after `since`, after the cursor `after`."""
    parts = _matching(task_run_id, min_level, text)
    key = sa.tuple_(t.log.c.timestamp, t.log.c.id)
    if since is not None:
        parts.append(t.log.c.timestamp >= sa.literal(since, Timestamp()))
    if after is not None:
        parts.append(key > sa.tuple_(sa.literal(after[0], Timestamp()), sa.literal(after[1], sa.Uuid())))
    query = sa.select(*_LOG_COLUMNS).where(*parts).order_by(t.log.c.timestamp, t.log.c.id).limit(limit)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


_TASK_RUN_STATE = sa.select(
    t.task_run.c.state_id,
    t.task_run.c.state_type,
    t.task_run.c.state_name,
    t.task_run.c.state_timestamp,
    t.task_run.c.start_time,
    t.task_run.c.end_time,
    t.task_run.c.total_run_time,
    t.task_run.c.run_count,
).where(t.task_run.c.id == sa.bindparam("task_run_id"))


async def read_task_run_state_summary(connection: AsyncConnection, task_run_id: uuid.UUID) -> dict[str, Any] | None:
    """The task run's current state and timing columns (a primary-key lookup); None when there is no such run."""
    row = (await connection.execute(_TASK_RUN_STATE, {"task_run_id": task_run_id})).mappings().first()
    return dict(row) if row else None


class TaskRunFollower(RunFollower):
    """Follows one task run (its id in `flow_run_id`): its state and the log lines it wrote."""

    async def read_state(self, connection: AsyncConnection) -> dict[str, Any] | None:
        return await read_task_run_state_summary(connection, self.flow_run_id)

    async def read_lines(self, connection: AsyncConnection, **query: Any) -> list[dict[str, Any]]:
        return await read_task_run_logs_forward(connection, self.flow_run_id, **query)

"""What the task run page reads besides the run itself: its parent flow run's name, its siblings (the other runs of
the same task in the same flow run, e.g. the items of a `.map`) and its newest log lines.

The log query starts with `task_run_id = ?` and orders by (timestamp, id), so it is served by the index
`ix_log__task_run_id__timestamp`; the level and text conditions are checked on that run's rows only.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.filters.core import contains_text

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


async def read_task_run_logs(
    connection: AsyncConnection, task_run_id: uuid.UUID, *, limit: int, min_level: int = 0, text: str | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """The newest `limit` matching lines in time order, and whether older matching lines were left out."""
    parts: list[sa.ColumnElement[bool]] = [t.log.c.task_run_id == task_run_id]
    if min_level > 0:
        parts.append(t.log.c.level >= min_level)
    if text:
        parts.append(contains_text(t.log.c.message, text))
    query = (
        sa.select(*_LOG_COLUMNS).where(*parts).order_by(t.log.c.timestamp.desc(), t.log.c.id.desc()).limit(limit + 1)
    )
    rows = [dict(row) for row in (await connection.execute(query)).mappings()]
    return list(reversed(rows[:limit])), len(rows) > limit

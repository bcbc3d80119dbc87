"""What the task run page reads besides the run itself: its parent flow run's name, its siblings (the other runs of
the same task in the same flow run, e.g. the items of a `.map`) and its newest log lines (the queries of
`flow_run_logs`, on the task run's lines).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.views.flow_run_logs import (
    read_task_run_log_page,
    read_task_run_logs_written_since,
    read_task_run_state_summary,
)
from baton.server.models.views.run_follower import RunFollower


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
    page = await read_task_run_log_page(connection, task_run_id, limit=limit, min_level=min_level, text=text)
    return page.rows, page.more_before


class TaskRunFollower(RunFollower):
    """Follows one task run (its id in `flow_run_id`): its state and the log lines it wrote."""

    async def read_state(self, connection: AsyncConnection) -> dict[str, Any] | None:
        return await read_task_run_state_summary(connection, self.flow_run_id)

    async def read_lines(self, connection: AsyncConnection, **query: Any) -> list[dict[str, Any]]:
        return await read_task_run_logs_written_since(connection, self.flow_run_id, **query)

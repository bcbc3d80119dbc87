"""What a live flow run page follows besides its logs: the run's task runs written since a cursor (by `updated`),
and their counts per state. `FlowRunFollower` adds them to each look of `RunFollower`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import Timestamp
from baton.server.models.views.flow_run_contents import TIMELINE_COLUMNS, count_subflow_runs
from baton.server.models.views.run_follower import OVERLAP, RunFollower, RunUpdate

PAGE_SIZE = 500
# Task runs sent per look at most; a burst larger than this continues at the next look.
MAX_TASK_RUNS_PER_POLL = 5000

# What a task-run table row shows besides what the timeline draws.
_COLUMNS = [*TIMELINE_COLUMNS, t.task_run.c.tags, t.task_run.c.updated]


async def read_task_runs_written_since(
    connection: AsyncConnection,
    flow_run_id: uuid.UUID,
    since: dt.datetime,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The run's task runs created or changed at or after `since` and past the key `after` (an (updated, id) pair),
    in (updated, id) order, `limit` of them, with what the page's timeline and task-run table show. Read through
    the index on `updated` (the recent changes of every run), whatever the number of the run's task runs."""
    key = sa.tuple_(t.task_run.c.updated, t.task_run.c.id)
    of_run = dialect_of(connection).not_indexed(t.task_run.c.flow_run_id) == flow_run_id
    query = sa.select(*_COLUMNS).where(of_run, t.task_run.c.updated >= sa.literal(since, Timestamp()))
    if after is not None:
        query = query.where(key > sa.tuple_(sa.literal(after[0], Timestamp()), sa.literal(after[1], sa.Uuid())))
    query = query.order_by(t.task_run.c.updated, t.task_run.c.id).limit(limit)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_task_runs_by_state(connection: AsyncConnection, flow_run_id: uuid.UUID) -> dict[str, int]:
    """How many task runs the run has in each state type (a task run with no state yet under "")."""
    query = (
        sa.select(t.task_run.c.state_type, sa.func.count())
        .where(t.task_run.c.flow_run_id == flow_run_id)
        .group_by(t.task_run.c.state_type)
    )
    return {str(state or ""): int(count) for state, count in await connection.execute(query)}


class FlowRunFollower(RunFollower):
    """Follows a flow run for its page: its state and lines (`RunFollower`), and its task runs. Each look adds one
    read of the task runs written since the last one, and the counts (per state, and of subflow runs) only when some
    changed."""

    def __init__(self, flow_run_id: uuid.UUID, *, since: dt.datetime, **options: Any) -> None:
        super().__init__(flow_run_id, since=since, **options)
        self.task_run_watermark = since
        # (task run id -> the `updated` sent), within the overlap window: a row is sent again only once it changes.
        self._task_runs_sent: dict[uuid.UUID, dt.datetime] = {}

    async def poll(self, connection: AsyncConnection) -> RunUpdate:
        update = await super().poll(connection)
        if not update.exists:
            return update
        update.task_runs = await self._changed_task_runs(connection)
        if update.task_runs:
            update.task_run_counts = await count_task_runs_by_state(connection, self.flow_run_id)
            update.subflow_count = await count_subflow_runs(connection, self.flow_run_id)
        return update

    async def _changed_task_runs(self, connection: AsyncConnection) -> list[dict[str, Any]]:
        changed: dict[uuid.UUID, dict[str, Any]] = {}
        after = None
        while len(changed) < MAX_TASK_RUNS_PER_POLL:
            page = await read_task_runs_written_since(
                connection, self.flow_run_id, self.task_run_watermark - OVERLAP, after, PAGE_SIZE
            )
            for row in page:
                if self._task_runs_sent.get(row["id"]) != row["updated"]:
                    self._task_runs_sent[row["id"]] = row["updated"]
                    changed[row["id"]] = row
            if len(page) < PAGE_SIZE:
                break
            after = (page[-1]["updated"], page[-1]["id"])
        if changed:
            self.task_run_watermark = max(self.task_run_watermark, *(row["updated"] for row in changed.values()))
            horizon = self.task_run_watermark - OVERLAP
            self._task_runs_sent = {key: moment for key, moment in self._task_runs_sent.items() if moment >= horizon}
        return list(changed.values())

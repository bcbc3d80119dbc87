"""`RunFollower`: what is new about one flow run since the last look (log lines, a state change), for its live page
(the UI's /runs/flow-run/<id>/stream)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.models.views.flow_run_logs import read_flow_run_logs_written_since, read_flow_run_state_summary

# Lines are followed by when they were written (`created`), not by their own timestamps, so a line stamped long before
# it arrived is still new. A transaction can commit after a later-written one (and API processes' clocks differ a
# little): each look reads again this far back and skips the lines it has sent.
OVERLAP = dt.timedelta(seconds=2)
PAGE_SIZE = 500
# Lines sent per look at most; a faster log continues at the next look.
MAX_LINES_PER_POLL = 5000


@dataclass
class RunUpdate:
    exists: bool
    lines: list[dict[str, Any]] = field(default_factory=list)
    #: The run's state columns when its state changed since the last look.
    state: dict[str, Any] | None = None
    #: Task runs created or changed since the last look (a flow run's page only).
    task_runs: list[dict[str, Any]] = field(default_factory=list)
    #: The run's task runs per state type, when some changed.
    task_run_counts: dict[str, int] | None = None
    #: The run's subflow runs, when task runs changed (a subflow run's parent task run changes with it).
    subflow_count: int | None = None


class RunFollower:
    """Follows one flow run: each `poll` is a primary-key read of the run and a read of the lines written since the
    last look. `since` is a write time (`created`): the page's render time, or the cursor of the last line sent."""

    def __init__(
        self,
        flow_run_id: uuid.UUID,
        *,
        since: dt.datetime,
        state_id: uuid.UUID | None = None,
        min_level: int = 0,
        text: str | None = None,
        follow_logs: bool = True,
    ) -> None:
        self.flow_run_id = flow_run_id
        self.watermark = since
        self.state_id = state_id
        self.min_level = min_level
        self.text = text
        self.follow_logs = follow_logs
        self._sent: dict[uuid.UUID, dt.datetime] = {}

    async def read_state(self, connection: AsyncConnection) -> dict[str, Any] | None:
        return await read_flow_run_state_summary(connection, self.flow_run_id)

    async def read_lines(self, connection: AsyncConnection, **query: Any) -> list[dict[str, Any]]:
        return await read_flow_run_logs_written_since(connection, self.flow_run_id, **query)

    async def poll(self, connection: AsyncConnection) -> RunUpdate:
        state = await self.read_state(connection)
        if state is None:
            return RunUpdate(exists=False)
        update = RunUpdate(exists=True)
        if state["state_id"] != self.state_id:
            self.state_id = state["state_id"]
            update.state = state
        if self.follow_logs:
            update.lines = await self._new_lines(connection)
        return update

    async def _new_lines(self, connection: AsyncConnection) -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        after = None
        while len(fresh) < MAX_LINES_PER_POLL:
            page = await self.read_lines(
                connection,
                limit=PAGE_SIZE,
                since=self.watermark - OVERLAP,
                after=after,
                min_level=self.min_level,
                text=self.text,
            )
            for row in page:
                if row["id"] not in self._sent:
                    self._sent[row["id"]] = row["created"]  # an aware datetime (the Timestamp column type)
                    fresh.append(row)
            if len(page) < PAGE_SIZE:
                break
            after = (page[-1]["created"], page[-1]["id"])
        if fresh:
            self.watermark = max(self.watermark, *self._sent.values())
            horizon = self.watermark - OVERLAP
            self._sent = {line_id: moment for line_id, moment in self._sent.items() if moment >= horizon}
        return fresh

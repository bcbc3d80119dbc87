"""`GET /runs/flow-run/<id>/stream` (and `/task-runs/<id>/stream`): a flow run's (a task run's) new log lines and
state changes as Server-Sent Events.

The browser's EventSource keeps one HTTP response open; the server looks at the run every POLL_INTERVAL_SECONDS
(a primary-key read and an index range read of its newest lines, see `RunFollower`) and writes what is new:

- `event: logs` with a JSON list of lines (`id:` is the cursor of the last one, so a reconnecting EventSource
  resumes after it through Last-Event-ID);
- `event: state` with the run's new state type, name and times (written before the same look's lines, so a
  client always learns the state first);
- `event: task_runs` (flow runs only) when task runs were created or changed since the last look: the run's task
  runs per state (`counts`, `total`, `counts_html`), its subflow runs (`subflows`) and, with `table=1` (the page's
  task-run tab), each changed one as its row of the task-run table (`rows`: `{"id", "sort", "html"}`);
- `event: timeline` (flow runs only) with the timeline panel redrawn (`html`): at most every TIMELINE_MIN_SECONDS
  after a change, and every TIMELINE_RUNNING_SECONDS while a bar grows. The stream reads the task runs for it once,
  at the first change, and merges the changed ones from then on;
- `event: end` once the run has been in a terminal state for TERMINAL_GRACE_SECONDS (the client's last log batch
  arrives after its final state), or when the run is deleted; the page then closes its EventSource.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from tornado.iostream import StreamClosedError

from baton.errors import BatonError, ObjectNotFound, ValidationFailed
from baton.server.models.views.flow_run_contents import read_timeline_task_runs
from baton.server.models.views.flow_run_live import FlowRunFollower
from baton.server.models.views.flow_run_logs import read_flow_run_state_summary, read_task_run_state_summary
from baton.server.models.views.run_follower import RunFollower, RunUpdate
from baton.server.models.views.task_run_page import TaskRunFollower
from baton.states import TERMINAL_STATE_TYPES
from baton.webui.base import PageHandler
from baton.webui.formatting import as_datetime
from baton.webui.live_task_runs import TIMELINE_LIMIT, LiveTimeline, sort_key, state_counts, task_run_row
from baton.webui.log_view import format_cursor, log_json, parse_cursor, parse_log_filter

logger = logging.getLogger("baton.webui.stream")

POLL_INTERVAL_SECONDS = 0.5
# How long the stream goes on after the run reaches a terminal state: its last log lines arrive after that state.
TERMINAL_GRACE_SECONDS = 3.0
# A comment this often keeps proxies from closing a quiet stream.
HEARTBEAT_SECONDS = 15.0
# One response lasts at most this long; the EventSource then reconnects (with Last-Event-ID) by itself.
MAX_STREAM_SECONDS = 600.0
RECONNECT_MILLISECONDS = 2000
# The timeline is redrawn at most this often while task runs change (a map of thousands changes at every look).
TIMELINE_MIN_SECONDS = 1.0
# And this often while a bar grows with time, with no change.
TIMELINE_RUNNING_SECONDS = 5.0


def sse_event(name: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


def state_json(state: dict[str, Any]) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        moment = as_datetime(value)
        return moment.isoformat().replace("+00:00", "Z") if moment else None

    return {
        "id": str(state["state_id"]) if state["state_id"] else None,
        "type": state["state_type"],
        "name": state["state_name"],
        "timestamp": iso(state["state_timestamp"]),
        "start_time": iso(state["start_time"]),
        "end_time": iso(state["end_time"]),
        "run_count": state["run_count"],
        "total_run_time": state["total_run_time"],
        "terminal": state["state_type"] in TERMINAL_STATE_TYPES,
    }


def task_runs_json(
    update: RunUpdate, now: dt.datetime, *, rows: bool, page_urls: Callable[[str], str] = str
) -> dict[str, Any]:
    """The `task_runs` event: the changed task runs' table rows (when the page shows the table; their links as
    `page_urls` makes them: in the page's workspace, under the server's sub-path) and the counts."""
    counts = update.task_run_counts or {}
    changed = update.task_runs if rows else []
    return {
        "rows": [
            {"id": str(row["id"]), "sort": sort_key(row), "html": page_urls(task_run_row(row, now))} for row in changed
        ],
        "counts": counts,
        "total": sum(counts.values()),
        "counts_html": state_counts(counts),
        "subflows": update.subflow_count,
    }


class FlowRunStreamHandler(PageHandler):
    permission = "flow_run:read"
    what = "flow run"
    follower_class: type[RunFollower] = FlowRunFollower
    follows_task_runs = True

    async def read_summary(self, connection: Any, run_id: uuid.UUID) -> dict[str, Any] | None:
        return await read_flow_run_state_summary(connection, run_id)

    async def prepare(self) -> None:
        # Not counted as in flight: shutdown would otherwise wait its whole grace period for every open page.
        self._closed = False
        await self.admit()

    def on_finish(self) -> None:
        pass

    def on_connection_close(self) -> None:
        self._closed = True

    async def get(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id, self.what)
        log_filter = parse_log_filter(self.get_query_argument("level", None), self.get_query_argument("q", None))
        cursor = parse_cursor(self.request.headers.get("Last-Event-ID") or self.get_query_argument("after", None))
        async with self.database.read() as connection:
            current = await self.read_summary(connection, run_id)
        if current is None:
            raise ObjectNotFound(f"There is no {self.what} with the id {flow_run_id!r}.")
        since = cursor[0] if cursor else self._since()
        state_id = self.get_query_argument("state", None)
        follower = self.follower_class(
            run_id,
            since=since,
            state_id=current["state_id"] if state_id == str(current["state_id"]) else None,
            min_level=log_filter.min_level,
            text=log_filter.text or None,
            follow_logs=self.get_query_argument("logs", "1") != "0",
        )
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")
        self.write(f"retry: {RECONNECT_MILLISECONDS}\n\n")
        try:
            await self._follow(follower, terminal=current["state_type"] in TERMINAL_STATE_TYPES)
        except StreamClosedError:
            return
        except BatonError as exc:  # the database went away mid-stream: the EventSource reconnects later
            logger.warning("A %s's live stream stopped: %s", self.what, exc)
        if not self._closed:
            self.finish()

    def _since(self) -> dt.datetime:
        """When the page was rendered (the lines from then on are new), else now."""
        try:
            return as_datetime(self.get_query_argument("since", None)) or dt.datetime.now(dt.UTC)
        except ValueError as exc:
            raise ValidationFailed("The 'since' parameter must be an ISO 8601 time.") from exc

    async def _follow(self, follower: RunFollower, *, terminal: bool) -> None:
        started = last_write = time.monotonic()
        terminal_since: float | None = started if terminal else None
        timeline: LiveTimeline | None = None
        timeline_dirty, timeline_drawn, task_run_total = False, 0.0, 0
        await self.flush()
        while not self._closed and time.monotonic() - started < MAX_STREAM_SECONDS:
            async with self.database.read() as connection:
                update = await follower.poll(connection)
                if update.task_runs and timeline is None and self.follows_task_runs:
                    # Read once, at the first change: a page whose task runs never change never pays for it.
                    rows = await read_timeline_task_runs(connection, follower.flow_run_id, TIMELINE_LIMIT)
                    timeline = LiveTimeline(rows, TIMELINE_LIMIT)
            now = time.monotonic()
            moment = dt.datetime.now(dt.UTC)
            if not update.exists:
                self.write(sse_event("end", {"reason": "deleted"}))
                return
            if update.state is not None:
                self.write(sse_event("state", state_json(update.state)))
                terminal_since = now if update.state["state_type"] in TERMINAL_STATE_TYPES else None
            if update.lines:
                lines = [log_json(row) for row in update.lines]
                last = update.lines[-1]
                self.write(sse_event("logs", lines, format_cursor({"timestamp": last["created"], "id": last["id"]})))
            if update.task_runs:
                table = self.get_query_argument("table", "0") == "1"
                self.write(sse_event("task_runs", task_runs_json(update, moment, rows=table, page_urls=self.page_urls)))
                task_run_total = sum((update.task_run_counts or {}).values())
                if timeline is not None:
                    timeline.merge(update.task_runs)
                    timeline_dirty = True
            ending = terminal_since is not None and now - terminal_since >= TERMINAL_GRACE_SECONDS
            if timeline is not None and (
                (timeline_dirty and (ending or now - timeline_drawn >= TIMELINE_MIN_SECONDS))
                or (terminal_since is None and timeline.running and now - timeline_drawn >= TIMELINE_RUNNING_SECONDS)
            ):
                self.write(sse_event("timeline", {"html": timeline.render(task_run_total, moment)}))
                timeline_dirty, timeline_drawn = False, now
            if update.lines or update.state is not None or update.task_runs:
                last_write = now
            elif now - last_write >= HEARTBEAT_SECONDS:
                self.write(": keep-alive\n\n")
                last_write = now
            if ending:
                self.write(sse_event("end", {"reason": "finished"}))
                return
            await self.flush()
            await asyncio.sleep(POLL_INTERVAL_SECONDS)


class TaskRunStreamHandler(FlowRunStreamHandler):
    """The same stream for one task run: its state changes and the log lines it wrote."""

    permission = "task_run:read"
    what = "task run"
    follower_class = TaskRunFollower
    follows_task_runs = False

    async def read_summary(self, connection: Any, run_id: uuid.UUID) -> dict[str, Any] | None:
        return await read_task_run_state_summary(connection, run_id)


routes = [
    (r"/runs/flow-run/(?P<flow_run_id>[^/]+)/stream", FlowRunStreamHandler),
    (r"/task-runs/(?P<flow_run_id>[^/]+)/stream", TaskRunStreamHandler),
]

"""The flow run page (`/runs/flow-run/<id>`): header and actions, task-run timeline, tabs; and its log download."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from urllib.parse import urlencode

from baton.errors import ObjectNotFound, ValidationFailed
from baton.server.models.runs import flow_runs
from baton.server.models.runs.blocker_rules import WAITING_STATE_TYPES
from baton.server.models.runs.blockers import read_blockers_of_run
from baton.server.models.views import flow_run_contents as contents
from baton.server.models.views.flow_run_live import count_task_runs_by_state
from baton.server.models.views.flow_run_logs import read_flow_run_log_page, read_flow_run_logs_forward
from baton.states import TERMINAL_STATE_TYPES, StateType
from baton.webui.base import PageHandler
from baton.webui.formatting import as_datetime
from baton.webui.live_task_runs import TIMELINE_LIMIT, state_counts, task_run_row, timeline_panel
from baton.webui.log_view import (
    LEVELS,
    LogFilter,
    format_cursor,
    level_name,
    log_sort_key,
    log_text_line,
    parse_cursor,
    parse_log_filter,
)

TABS = {
    "logs": "Logs",
    "task-runs": "Task runs",
    "subflows": "Subflow runs",
    "artifacts": "Artifacts",
    "states": "State history",
    "details": "Parameters & details",
}
LOG_PAGE_SIZE = 500
TASK_RUN_PAGE_SIZE = 100
SUBFLOW_LIMIT = 200
ARTIFACT_LIMIT = 200
DOWNLOAD_PAGE_SIZE = 2000
CANCELLABLE = frozenset({"SCHEDULED", "PENDING", "PAUSED", "RUNNING"})
# A run that finished without success may be run again from the page.
RETRYABLE = TERMINAL_STATE_TYPES - {StateType.COMPLETED}


def run_timing(run: dict[str, Any], now: dt.datetime) -> dict[str, float | None]:
    """Seconds: duration (start to end, or to now while unfinished), run time so far and total run time."""
    start, end = as_datetime(run["start_time"]), as_datetime(run["end_time"])
    duration = None
    if start is not None:
        duration = (
            ((end or now) - start).total_seconds() if end or run["state_type"] not in TERMINAL_STATE_TYPES else None
        )
    estimated = float(run["total_run_time"] or 0.0)
    state_since = as_datetime(run["state_timestamp"])
    if run["state_type"] == "RUNNING" and state_since is not None:
        estimated += max((now - state_since).total_seconds(), 0.0)
    return {"duration": duration, "estimated_run_time": estimated, "total_run_time": run["total_run_time"]}


def safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.") or "flow-run"


class FlowRunPageHandler(PageHandler):
    permission = "flow_run:read"

    async def get(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id, "flow run")
        tab = self.get_query_argument("tab", "logs")
        if tab not in TABS:
            raise ValidationFailed(f"There is no tab {tab!r}; the tabs are {', '.join(TABS)}.")
        now = dt.datetime.now(dt.UTC)
        async with self.database.read() as connection:
            run = await flow_runs.read_flow_run(connection, run_id)
            if run is None:
                raise ObjectNotFound(f"There is no flow run with the id {flow_run_id!r}.")
            flow_name, deployment_name = await contents.read_flow_and_deployment_names(
                connection, run["flow_id"], run["deployment_id"]
            )
            timeline_runs = await contents.read_timeline_task_runs(connection, run_id, TIMELINE_LIMIT)
            task_run_states = await count_task_runs_by_state(connection, run_id)
            counts = {
                "task-runs": sum(task_run_states.values()),
                "subflows": await contents.count_subflow_runs(connection, run_id),
                "artifacts": await contents.count_flow_run_artifacts(connection, run_id),
            }
            tab_values = await self._tab_values(connection, tab, run)
            waiting = run["state_type"] in WAITING_STATE_TYPES
            blockers = await read_blockers_of_run(connection, run, now) if waiting else None
        live = run["state_type"] not in TERMINAL_STATE_TYPES
        stream_query: dict[str, str] = {"logs": "0"}
        if tab == "logs" and tab_values["tail_view"]:
            stream_query = {"logs": "1", **tab_values["log_filter"].query()}
        # The stream sends what is written from the page's own reading on (the page's time, before it read).
        stream_query["since"] = now.isoformat()
        if tab == "task-runs":
            stream_query["table"] = "1"
        stream_query["state"] = str(run["state_id"] or "")
        self.render_page(
            "flow_run.html",
            title=run["name"],
            run=run,
            flow_name=flow_name,
            deployment_name=deployment_name,
            timing=run_timing(run, now),
            timeline=timeline_panel(timeline_runs, counts["task-runs"], now),
            state_counts=state_counts(task_run_states),
            tabs=TABS,
            tab=tab,
            counts=counts,
            live=live,
            stream_url=f"/runs/flow-run/{run_id}/stream?{urlencode(stream_query)}",
            task_run_row=lambda task_run: task_run_row(task_run, now),
            blockers=blockers,
            can_cancel=run["state_type"] in CANCELLABLE,
            can_retry=run["state_type"] in RETRYABLE,
            tab_url=lambda name, **query: self._tab_url(run_id, name, **query),
            **tab_values,
        )

    def _tab_url(self, run_id: uuid.UUID, tab: str, **query: str) -> str:
        values = {"tab": tab} if tab != "logs" else {}
        values.update({name: value for name, value in query.items() if value})
        return f"/runs/flow-run/{run_id}" + (f"?{urlencode(values)}" if values else "")

    async def _tab_values(self, connection: Any, tab: str, run: dict[str, Any]) -> dict[str, Any]:
        run_id = run["id"]
        if tab == "logs":
            return await self._logs(connection, run)
        if tab == "task-runs":
            page = self.query_int("page", 1, minimum=1)
            rows = await contents.read_flow_run_task_runs(
                connection, run_id, TASK_RUN_PAGE_SIZE, (page - 1) * TASK_RUN_PAGE_SIZE
            )
            return {"task_runs": rows, "page": page, "page_size": TASK_RUN_PAGE_SIZE}
        if tab == "subflows":
            return {"subflows": await contents.read_subflow_runs(connection, run_id, SUBFLOW_LIMIT)}
        if tab == "artifacts":
            return {"artifacts": await contents.read_flow_run_artifacts(connection, run_id, ARTIFACT_LIMIT)}
        if tab == "states":
            return {"states": await flow_runs.read_flow_run_states(connection, run_id)}
        return {}

    async def _logs(self, connection: Any, run: dict[str, Any]) -> dict[str, Any]:
        log_filter = parse_log_filter(self.get_query_argument("level", None), self.get_query_argument("q", None))
        before = parse_cursor(self.get_query_argument("before", None))
        after = parse_cursor(self.get_query_argument("after", None)) if before is None else None
        page = await read_flow_run_log_page(
            connection,
            run["id"],
            limit=LOG_PAGE_SIZE,
            min_level=log_filter.min_level,
            text=log_filter.text or None,
            before=before,
            after=after,
        )
        rows = page.rows
        query = log_filter.query()
        return {
            "log_filter": log_filter,
            "log_levels": LEVELS,
            "log_rows": rows,
            "level_name": level_name,
            "log_sort_key": log_sort_key,
            # The newest lines are shown (no cursor): only then do new ones belong at the bottom.
            "tail_view": before is None and after is None,
            "earlier_url": self._tab_url(run["id"], "logs", before=format_cursor(rows[0]), **query)
            if rows and page.more_before
            else None,
            "later_url": self._tab_url(run["id"], "logs", after=format_cursor(rows[-1]), **query)
            if rows and page.more_after
            else None,
            "download_url": f"/runs/flow-run/{run['id']}/logs.txt" + (f"?{urlencode(query)}" if query else ""),
        }


class FlowRunLogsTextHandler(PageHandler):
    """The run's log lines (matching the level and search of the page) as plain text, streamed page by page."""

    permission = "log:read"

    async def get(self, flow_run_id: str) -> None:
        run_id = self.path_uuid(flow_run_id, "flow run")
        log_filter: LogFilter = parse_log_filter(
            self.get_query_argument("level", None), self.get_query_argument("q", None)
        )
        async with self.database.read() as connection:
            run = await flow_runs.read_flow_run(connection, run_id)
        if run is None:
            raise ObjectNotFound(f"There is no flow run with the id {flow_run_id!r}.")
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{safe_filename(run["name"])}-logs.txt"')
        after = None
        while True:
            # A connection per page: a slow download does not hold a database connection between pages.
            async with self.database.read() as connection:
                rows = await read_flow_run_logs_forward(
                    connection,
                    run_id,
                    limit=DOWNLOAD_PAGE_SIZE,
                    after=after,
                    min_level=log_filter.min_level,
                    text=log_filter.text or None,
                )
            if rows:
                self.write("".join(log_text_line(row) for row in rows))
                await self.flush()
            if len(rows) < DOWNLOAD_PAGE_SIZE:
                break
            after = (rows[-1]["timestamp"], rows[-1]["id"])
        self.finish()


routes = [
    (r"/runs/flow-run/(?P<flow_run_id>[^/]+)/?", FlowRunPageHandler),
    (r"/runs/flow-run/(?P<flow_run_id>[^/]+)/logs\.txt", FlowRunLogsTextHandler),
]

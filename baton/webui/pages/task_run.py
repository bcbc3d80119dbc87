"""The task run page (`/task-runs/<id>`): state, timings, inputs, cache, retries, state history, its log lines
(filtered by level and text), its parent flow run and, for a mapped task, the other runs of the same task."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from baton.errors import ObjectNotFound
from baton.server.models.runs import task_runs
from baton.server.models.views import task_run_page
from baton.states import TERMINAL_STATE_TYPES
from baton.webui.base import PageHandler
from baton.webui.log_view import LEVELS, level_name, log_sort_key, parse_log_filter
from baton.webui.pages.flow_run import run_timing

LOG_LIMIT = 500
SIBLING_LIMIT = 200


class TaskRunPageHandler(PageHandler):
    permission = "task_run:read"

    async def get(self, task_run_id: str) -> None:
        run_id = self.path_uuid(task_run_id, "task run")
        log_filter = parse_log_filter(self.get_query_argument("level", None), self.get_query_argument("q", None))
        async with self.database.read() as connection:
            run = await task_runs.read_task_run(connection, run_id)
            if run is None:
                raise ObjectNotFound(f"There is no task run with the id {task_run_id!r}.")
            flow_run_name = await task_run_page.read_flow_run_name(connection, run["flow_run_id"])
            siblings = await task_run_page.read_task_run_siblings(connection, run, SIBLING_LIMIT)
            states = list(reversed(await task_runs.read_task_run_states(connection, run_id)))
            log_rows, more_logs = await task_run_page.read_task_run_logs(
                connection, run_id, limit=LOG_LIMIT, min_level=log_filter.min_level, text=log_filter.text or None
            )
        policy = run["empirical_policy"] or {}
        now = dt.datetime.now(dt.UTC)
        # The live tail (flow_run.js, the same stream as the flow run page's) sends the lines written from now on.
        stream_query = {
            **log_filter.query(),
            "since": now.isoformat(),
            "state": str(run["state_id"] or ""),
        }
        self.render_page(
            "task_run.html",
            title=run["name"],
            run=run,
            flow_run_name=flow_run_name,
            timing=run_timing(run, now),
            live=run["state_type"] not in TERMINAL_STATE_TYPES,
            stream_url=f"/task-runs/{run_id}/stream?{urlencode(stream_query)}",
            retries=policy.get("retries", policy.get("max_retries")),
            retry_delay=policy.get("retry_delay", policy.get("retry_delay_seconds")),
            siblings=siblings,
            states=states,
            log_filter=log_filter,
            log_levels=LEVELS,
            log_rows=log_rows,
            more_logs=more_logs,
            log_limit=LOG_LIMIT,
            level_name=level_name,
            log_sort_key=log_sort_key,
        )


routes = [(r"/task-runs/(?P<task_run_id>[^/]+)/?", TaskRunPageHandler)]

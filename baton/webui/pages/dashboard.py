"""The dashboard: flow-run activity over the last hour, day or week as a stacked bar chart, counts per state, the
latest failed and late runs, and task-run counts; optionally only runs with one tag."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from baton.errors import ValidationFailed
from baton.server.database.types import utcnow
from baton.server.models.views import dashboard
from baton.webui.base import PageHandler
from baton.webui.charts import Bucket, stacked_bar_chart, totals_by_state


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    bucket_seconds: int
    buckets: int

    def bounds(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """(start, end): whole buckets aligned on the epoch, the last one holding `now`."""
        seconds = self.bucket_seconds
        end = dt.datetime.fromtimestamp((int(now.timestamp()) // seconds + 1) * seconds, dt.UTC)
        return end - dt.timedelta(seconds=seconds * self.buckets), end


WINDOWS = (
    Window("hour", "Last hour", 5 * 60, 12),
    Window("day", "Last day", 60 * 60, 24),
    Window("week", "Last week", 6 * 60 * 60, 28),
)
WINDOW_BY_KEY = {window.key: window for window in WINDOWS}
DEFAULT_WINDOW = "day"
LIST_LIMIT = 5  # runs listed per panel; the Runs page has the rest


class DashboardPageHandler(PageHandler):
    permission = "flow_run:read"

    async def get(self) -> None:
        window = self._window()
        tag = self.get_query_argument("tag", "").strip() or None
        start, end = window.bounds(utcnow())
        async with self.database.read() as connection:
            counts = await dashboard.count_flow_runs_by_bucket(
                connection, start, window.bucket_seconds, window.buckets, tag=tag
            )
            task_counts = await dashboard.count_task_runs_by_state(connection, start, end, tag=tag)
            failed = await dashboard.read_failed_flow_runs(connection, start, end, tag=tag, limit=LIST_LIMIT)
            late = await dashboard.read_late_flow_runs(connection, start, end, tag=tag, limit=LIST_LIMIT)
            latest = await dashboard.read_latest_flow_runs(connection, start, end, tag=tag, limit=LIST_LIMIT)
        step = dt.timedelta(seconds=window.bucket_seconds)
        buckets = [Bucket(start + i * step, start + (i + 1) * step, bucket) for i, bucket in enumerate(counts)]
        totals = totals_by_state(buckets)
        self.render_page(
            "dashboard.html",
            title="Dashboard",
            windows=WINDOWS,
            window=window,
            tag=tag,
            start=start,
            end=end,
            chart=stacked_bar_chart(buckets),
            flow_run_totals=totals,
            flow_run_total=sum(totals.values()),
            task_run_totals=task_counts,
            task_run_total=sum(task_counts.values()),
            failed_runs=failed,
            late_runs=late,
            latest_runs=latest,
            window_url=lambda key: _url("/", [("window", key), *_tag_pair(tag)]),
            runs_url=lambda *states: _url("/runs", [*(("state", state) for state in states), *_tag_pair(tag)]),
        )

    def _window(self) -> Window:
        key = self.get_query_argument("window", DEFAULT_WINDOW) or DEFAULT_WINDOW
        if key not in WINDOW_BY_KEY:
            raise ValidationFailed(f"The window must be one of {', '.join(WINDOW_BY_KEY)}, not {key!r}.")
        return WINDOW_BY_KEY[key]


def _tag_pair(tag: str | None) -> list[tuple[str, str]]:
    return [("tag", tag)] if tag else []


def _url(path: str, query: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


routes = [(r"/", DashboardPageHandler)]

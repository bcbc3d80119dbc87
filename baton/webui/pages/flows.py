"""The Flows page (each flow's last and next run and its run counts) and a flow's page: its runs over a time window
as a chart, per deployment the run count, success rate and duration percentiles, and its runs."""

from __future__ import annotations

import datetime as dt

from baton.errors import ObjectNotFound, ValidationFailed
from baton.server.database.types import utcnow
from baton.server.models.runs import flows
from baton.server.models.views import flow_stats, run_pages
from baton.server.models.views.run_pages import Cursor
from baton.states import TERMINAL_STATE_VALUES
from baton.webui import run_listing
from baton.webui.base import PageHandler
from baton.webui.charts import Bucket, stacked_bar_chart, totals_by_state
from baton.webui.pages.dashboard import DEFAULT_WINDOW, WINDOW_BY_KEY, WINDOWS, Window

# The run counts the flows table shows, besides the total.
COUNTED_STATES = TERMINAL_STATE_VALUES


class FlowsPageHandler(PageHandler):
    permission = "flow:read"

    async def get(self) -> None:
        name = (self.get_query_argument("name", "") or "").strip() or None
        limit = self.query_int("limit", run_listing.DEFAULT_LIMIT, minimum=1, maximum=run_listing.MAX_LIMIT)
        after, before = self._cursor("after"), self._cursor("before")
        if after and before:
            raise ValidationFailed("A page is either after or before a flow, not both.")
        now = dt.datetime.now(dt.UTC)
        async with self.database.read() as connection:
            page = await run_pages.read_flow_page(connection, name, limit, after=after, before=before)
            summaries = await run_pages.read_flow_summaries(connection, [row["id"] for row in page.rows], now)
        self.render_page(
            "flows.html",
            title="Flows",
            page=page,
            summaries=summaries,
            name=name or "",
            limit=limit,
            counted_states=COUNTED_STATES,
            encode_cursor=run_listing.encode_cursor,
        )

    def _cursor(self, argument: str) -> Cursor | None:
        token = self.get_query_argument(argument, "")
        # Flows are paged by name, a text key like the run name sorts'.
        return run_listing.decode_cursor(token, run_pages.RunSort.NAME_ASC) if token else None


class FlowPageHandler(PageHandler):
    permission = "flow:read"

    async def get(self, flow_id: str) -> None:
        flow_uuid = self.path_uuid(flow_id, "flow")
        listing = run_listing.parse_run_listing(self.get_query_arguments, flow_id=flow_uuid)
        window = self._window()
        now = utcnow()
        start, end = window.bounds(now)
        async with self.database.read() as connection:
            flow = await flows.read_flow(connection, flow_uuid)
            if flow is None:
                raise ObjectNotFound(f"There is no flow with the id {flow_id}.")
            summary = (await run_pages.read_flow_summaries(connection, [flow_uuid], now))[flow_uuid]
            counts = await flow_stats.count_flow_runs_by_bucket(
                connection, flow_uuid, start, window.bucket_seconds, window.buckets
            )
            deployment_stats = await flow_stats.read_deployment_stats(connection, flow_uuid, start, end)
            page, matching = await run_pages.read_run_list(connection, listing.query(), run_listing.COUNT_CAP)
        step = dt.timedelta(seconds=window.bucket_seconds)
        buckets = [Bucket(start + i * step, start + (i + 1) * step, bucket) for i, bucket in enumerate(counts)]
        self.render_page(
            "flow.html",
            title=flow["name"],
            flow=flow,
            summary=summary,
            windows=WINDOWS,
            window=window,
            start=start,
            end=end,
            chart=stacked_bar_chart(buckets),
            window_totals=totals_by_state(buckets),
            deployment_stats=deployment_stats,
            percentiles=flow_stats.PERCENTILES,
            duration_sample=flow_stats.DURATION_SAMPLE,
            listing=listing,
            result=run_listing.RunListingResult(page, matching),
            flows=[],
            base_path=f"/flows/{flow_uuid}",
            show_flow=False,
            **run_listing.TEMPLATE_VALUES,
        )

    def _window(self) -> Window:
        key = self.get_query_argument("window", DEFAULT_WINDOW) or DEFAULT_WINDOW
        if key not in WINDOW_BY_KEY:
            raise ValidationFailed(f"The window must be one of {', '.join(WINDOW_BY_KEY)}, not {key!r}.")
        return WINDOW_BY_KEY[key]


routes = [(r"/flows/?", FlowsPageHandler), (r"/flows/(?P<flow_id>[^/]+)/?", FlowPageHandler)]

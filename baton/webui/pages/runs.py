"""The Runs page (`/runs`, flow runs) and its Task runs tab (`/task-runs`): runs with filters in the URL, keyset
pages, and bulk actions on the selected runs or on every run matching the filter (flow runs: cancel and delete; task
runs: set a state and delete)."""

from __future__ import annotations

from baton.server.models import saved_searches
from baton.server.models.views import run_pages
from baton.webui import run_listing
from baton.webui.base import PageHandler

# The flow filter lists this many flows by name; with more, a flow's own page filters by it.
FLOW_CHOICES = 500
# Saved searches listed on the page, by name.
SAVED_SEARCHES_SHOWN = 200
# The tabs of the Runs page: path -> label.
RUN_TABS = {"/runs": "Flow runs", "/task-runs": "Task runs"}


class RunsPageHandler(PageHandler):
    permission = "flow_run:read"

    async def get(self) -> None:
        listing = run_listing.parse_run_listing(self.get_query_arguments)
        async with self.database.read() as connection:
            page, matching = await run_pages.read_run_list(connection, listing.query(), run_listing.COUNT_CAP)
            flows = await run_pages.read_flow_choices(connection, FLOW_CHOICES)
            searches = await saved_searches.read_saved_searches(connection, SAVED_SEARCHES_SHOWN, 0)
        self.render_page(
            "runs.html",
            title="Runs",
            listing=listing,
            result=run_listing.RunListingResult(page, matching),
            flows=flows,
            saved_searches=searches,
            saved_search_url=run_listing.saved_search_url,
            saved_search_parameters=run_listing.FILTER_PARAMETERS,
            base_path="/runs",
            run_tabs=RUN_TABS,
            show_flow=True,
            **{**run_listing.TEMPLATE_VALUES, "bulk_filters": run_listing.bulk_filters(listing.filter)},
        )


class TaskRunsPageHandler(PageHandler):
    permission = "task_run:read"

    async def get(self) -> None:
        listing = run_listing.parse_run_listing(self.get_query_arguments, task_runs=True)
        async with self.database.read() as connection:
            page, matching = await run_pages.read_run_list(connection, listing.query(), run_listing.COUNT_CAP)
            flows = await run_pages.read_flow_choices(connection, FLOW_CHOICES)
        self.render_page(
            "task_runs.html",
            title="Task runs",
            listing=listing,
            result=run_listing.RunListingResult(page, matching, noun="task run"),
            flows=flows,
            base_path="/task-runs",
            run_tabs=RUN_TABS,
            show_flow=True,
            **{
                **run_listing.TEMPLATE_VALUES,
                "state_choices": run_listing.STATE_TYPES,
                "table_kind": run_listing.TASK_RUN_TABLE,
                "bulk_filters": run_listing.task_bulk_filters(listing.filter),
                "settable_states": run_listing.SETTABLE_TASK_RUN_STATES,
            },
        )


routes = [(r"/runs/?", RunsPageHandler), (r"/task-runs/?", TaskRunsPageHandler)]

"""The Runs page: flow runs with filters in the URL, keyset pages, and bulk cancel and delete."""

from __future__ import annotations

from baton.server.models import saved_searches
from baton.server.models.views import run_pages
from baton.webui import run_listing
from baton.webui.base import PageHandler

# The flow filter lists this many flows by name; with more, a flow's own page filters by it.
FLOW_CHOICES = 500
# Saved searches listed on the page, by name.
SAVED_SEARCHES_SHOWN = 200


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
            show_flow=True,
            **{**run_listing.TEMPLATE_VALUES, "bulk_filters": run_listing.bulk_filters(listing.filter)},
        )


routes = [(r"/runs/?", RunsPageHandler)]

"""The Events page: recorded events, newest first, filtered by time window, event name, resource and text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic

from baton.errors import ValidationFailed
from baton.server.models.events import event_queries
from baton.server.schemas.event_filters import (
    EventAnyResourceFilter,
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventTextFilter,
)
from baton.webui.base import PageHandler

WINDOWS = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1), "week": dt.timedelta(weeks=1)}
PAGE_SIZE = 50
# Offsets deeper than this are refused: narrow the filter instead (the page is for looking, not exporting).
MAX_PAGES = 40
FLOW_RUN_PREFIX = "prefect.flow-run."


def event_filter(window: str, prefix: str, resource: str, text: str, now: dt.datetime) -> EventFilter:
    """The filter of the page's query parameters; a bad value is a ValidationFailed naming it."""
    if window not in WINDOWS:
        raise ValidationFailed(f"The window must be one of {', '.join(WINDOWS)}, not {window!r}.")
    try:
        return EventFilter(
            occurred=EventOccurredFilter(since=now - WINDOWS[window], until=now),
            event=EventNameFilter(prefix=[prefix]) if prefix else None,
            any_resource=EventAnyResourceFilter(id_prefix=[resource]) if resource else None,
            text=EventTextFilter(query=text) if text else None,
        )
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise ValidationFailed(f"Bad filter ({'.'.join(map(str, first['loc']))}): {first['msg']}.") from exc


def resource_link(resource_id: str) -> str | None:
    """The UI page of a resource, where Baton has one."""
    if resource_id.startswith(FLOW_RUN_PREFIX):
        return f"/runs/flow-run/{resource_id.removeprefix(FLOW_RUN_PREFIX)}"
    if resource_id.startswith("prefect.flow."):
        return f"/flows/{resource_id.removeprefix('prefect.flow.')}"
    if resource_id.startswith("prefect.deployment."):
        return f"/deployments/{resource_id.removeprefix('prefect.deployment.')}"
    return None


def resource_name(resource: dict[str, Any]) -> str:
    return str(resource.get("prefect.resource.name") or resource.get("prefect.name") or resource["prefect.resource.id"])


class EventsPageHandler(PageHandler):
    permission = "event:read"

    async def get(self) -> None:
        window = self.get_query_argument("window", "day")
        prefix = self.get_query_argument("event", "").strip()
        resource = self.get_query_argument("resource", "").strip()
        text = self.get_query_argument("q", "").strip()
        page = self.query_int("page", 1, minimum=1, maximum=MAX_PAGES)
        spec = event_filter(window, prefix, resource, text, dt.datetime.now(dt.UTC))
        async with self.database.read() as connection:
            rows = await event_queries.read_events(connection, spec, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        has_more = len(rows) > PAGE_SIZE
        self.render_page(
            "events.html",
            title="Events",
            events=rows[:PAGE_SIZE],
            windows=list(WINDOWS),
            window=window,
            prefix=prefix,
            resource=resource,
            text=text,
            page=page,
            has_more=has_more and page < MAX_PAGES,
            resource_link=resource_link,
            resource_name=resource_name,
        )


routes = [(r"/events/?", EventsPageHandler)]

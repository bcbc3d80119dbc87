"""`/events/filter`, `/events/filter/next` and `/events/count-by/{countable}`: reading recorded events.

A page's `next_page` is a URL whose opaque `page-token` carries the filter (with its time range fixed when the first
page was read), the total, the page size and the next offset, so that later pages neither shift nor recount.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
import pydantic
from pydantic import BaseModel, ConfigDict, Field

from baton.errors import ValidationFailed
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.events import event_queries
from baton.server.schemas.event_filters import (
    INTERACTIVE_PAGE_SIZE,
    Countable,
    EventCount,
    EventCountRequest,
    EventFilter,
    EventFilterRequest,
    EventPage,
)

PAGE_TOKEN_PARAMETER = "page-token"


class PageToken(BaseModel):
    """What a `page-token` holds: the query and where the next page starts."""

    model_config = ConfigDict(extra="forbid")

    filter: EventFilter
    count: int = Field(ge=0)
    page_size: int = Field(ge=1, le=INTERACTIVE_PAGE_SIZE)
    offset: int = Field(ge=0)


def encode_page_token(token: PageToken) -> str:
    """The token as URL-safe base64 of its JSON."""
    return base64.urlsafe_b64encode(token.model_dump_json().encode()).decode().rstrip("=")


def decode_page_token(text: str) -> PageToken:
    """The token in `text`; raises ValidationFailed when it was not made by `encode_page_token`."""
    # A query string decodes `+` to a space; a standard-alphabet token (as Prefect makes) comes back that way.
    cleaned = text.strip().replace(" ", "+").translate(str.maketrans("+/", "-_"))
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4)))
        return PageToken.model_validate(data)
    except (binascii.Error, ValueError, orjson.JSONDecodeError, pydantic.ValidationError) as exc:
        raise ValidationFailed(
            "The page-token is not valid (it may be truncated or altered); request the first page again with "
            "POST /api/events/filter.",
            [{"loc": ["query", PAGE_TOKEN_PARAMETER], "msg": "Invalid page token", "type": "value_error"}],
        ) from exc


class EventPageHandler(ApiHandler):
    def write_page(self, events: list[dict[str, Any]], total: int, spec: EventFilter, size: int, offset: int) -> None:
        next_offset = offset + size
        next_page = None
        if size > 0 and next_offset < total:
            token = encode_page_token(PageToken(filter=spec, count=total, page_size=size, offset=next_offset))
            api_root = self.context.settings.server_base_path + self.request.path.rsplit("/events/", 1)[0]
            next_page = (
                f"{self.request.protocol}://{self.request.host}{api_root}/events/filter/next"
                f"?{PAGE_TOKEN_PARAMETER}={token}"
            )
        self.write_json({"events": events, "total": total, "next_page": next_page})


class EventFilterHandler(EventPageHandler):
    permission = "event:read"

    @endpoint(
        "The first page of events matching a filter", body=EventFilterRequest, response=EventPage, optional_body=True
    )
    async def post(self) -> None:
        request = self.parse_body(EventFilterRequest, default_empty=True)
        spec = request.filter or EventFilter()
        async with self.database.read() as connection:
            events, total = await event_queries.read_event_page(connection, spec, request.limit)
        self.write_page(events, total, spec, request.limit, 0)


class EventFilterNextHandler(EventPageHandler):
    permission = "event:read"

    @endpoint(
        "The next page of an event query",
        response=EventPage,
        query={PAGE_TOKEN_PARAMETER: "The token from the previous page's next_page URL"},
    )
    async def get(self) -> None:
        raw = self.get_query_argument(PAGE_TOKEN_PARAMETER, None)
        if not raw:
            raise ValidationFailed(
                "Invalid request received.",
                [{"loc": ["query", PAGE_TOKEN_PARAMETER], "msg": "Field required", "type": "missing"}],
            )
        token = decode_page_token(raw)
        async with self.database.read() as connection:
            events = await event_queries.read_events(connection, token.filter, token.page_size, token.offset)
        self.write_page(events, token.count, token.filter, token.page_size, token.offset)


class EventCountHandler(ApiHandler):
    permission = "event:read"

    @endpoint(
        "Events counted by day, time bucket, name or resource",
        body=EventCountRequest,
        response=list[EventCount],
        optional_body=True,
    )
    async def post(self, countable: str) -> None:
        try:
            counted = Countable(countable)
        except ValueError as exc:
            allowed = ", ".join(item.value for item in Countable)
            raise ValidationFailed(
                f"Events cannot be counted by {countable!r}; count them by one of: {allowed}.",
                [{"loc": ["path", "countable"], "msg": f"Input should be one of: {allowed}", "type": "enum"}],
            ) from exc
        request = self.parse_body(EventCountRequest, default_empty=True)
        async with self.database.read() as connection:
            counts = await event_queries.count_events_by(
                connection, counted, request.filter, request.time_unit, request.time_interval
            )
        self.write_json(counts)


routes = [
    (r"/events/filter/?", EventFilterHandler),
    (r"/events/filter/next/?", EventFilterNextHandler),
    (r"/events/count-by/(?P<countable>[^/]+)/?", EventCountHandler),
]

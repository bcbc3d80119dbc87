"""The websocket `/events/out`: matching events of the last minutes, then every new one as it is recorded.

The conversation follows Prefect's server, which the official client (`PrefectEventSubscriber`) expects (the
handshake and the close codes are those of every subscription socket, see `prefect_sockets`):

1. The `prefect` auth handshake.
2. The client sends `{"type": "filter", "filter": <EventFilter>, "backfill": true}`.
3. The server sends `{"type": "event", "event": ...}` for the matching events that occurred in the last
   MAX_BACKFILL (oldest first, unless `backfill` is false), then for each matching event recorded from then on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from baton.server.api.prefect_sockets import SubscriptionSocket
from baton.server.models.events import event_queries
from baton.server.schemas.event_filters import EventFilter, EventOrder

# Prefect's defaults (PREFECT_SERVER_EVENTS_MAXIMUM_WEBSOCKET_BACKFILL and _WEBSOCKET_BACKFILL_PAGE_SIZE).
MAX_BACKFILL = dt.timedelta(minutes=15)
BACKFILL_PAGE_SIZE = 250


class EventsOutHandler(SubscriptionSocket):
    """One subscriber of the live event stream."""

    permission = "event:read"

    kind = "event"

    def parse_filter(self, data: dict[str, Any]) -> EventFilter:
        spec = EventFilter.model_validate(data.get("filter"))
        earliest = dt.datetime.now(dt.UTC) - MAX_BACKFILL
        occurred = spec.occurred.model_copy(update={"since": max(spec.occurred.since, earliest)})
        return spec.model_copy(update={"occurred": occurred, "order": EventOrder.ASC})

    async def stream(self, spec: EventFilter, data: dict[str, Any]) -> None:
        # Subscribe before backfilling, so that an event recorded meanwhile is not missed; it may come twice, and
        # the second copy is skipped.
        async with self.context.event_stream.subscribe(spec) as subscription:
            sent = await self._backfill(spec) if bool(data.get("backfill", True)) else set()
            while True:
                event = await subscription.get()
                if event["id"] in sent:
                    sent.discard(event["id"])
                    continue
                await self.send(event)

    async def _backfill(self, spec: EventFilter) -> set[Any]:
        """Send the matching events already recorded, oldest first; the ids sent."""
        sent: set[Any] = set()
        offset = 0
        while True:
            async with self.context.database.read() as connection:
                page = await event_queries.read_events(connection, spec, BACKFILL_PAGE_SIZE, offset)
            for event in page:
                # An event recorded between two pages can shift the next page to repeat one already sent.
                if event["id"] not in sent:
                    sent.add(event["id"])
                    await self.send(event)
            if len(page) < BACKFILL_PAGE_SIZE:
                return sent
            offset += BACKFILL_PAGE_SIZE


routes = [
    (r"/events/out/?", EventsOutHandler),
]

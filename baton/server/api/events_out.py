"""The websocket `/events/out`: matching events of the last minutes, then every new one as it is recorded.

The conversation follows Prefect's server, which the official client (`PrefectEventSubscriber`) expects:

1. With the subprotocol `prefect`, the client first sends `{"type": "auth", "token": ...}` and the server answers
   `{"type": "auth_success"}`. Baton has no API auth string, so any token, null included, is accepted. Without the
   subprotocol (legacy clients) there is no auth step.
2. The client sends `{"type": "filter", "filter": <EventFilter>, "backfill": true}`.
3. The server sends `{"type": "event", "event": ...}` for the matching events that occurred in the last
   MAX_BACKFILL (oldest first, unless `backfill` is false), then for each matching event recorded from then on.

A wrong or unreadable first message closes the socket with 1008 (policy violation), a wrong or invalid filter
message with 1002 (protocol error), as Prefect does; a subscriber that falls too far behind is closed with 1013
(try again later), after which the official client reconnects and backfills what it missed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import orjson
import pydantic
import tornado.websocket

from baton.errors import ServiceUnavailable
from baton.server.api.base import dumps
from baton.server.context import ServerContext
from baton.server.events_stream import SubscriberTooSlow
from baton.server.models.events import event_queries
from baton.server.schemas.event_filters import EventFilter, EventOrder

logger = logging.getLogger("baton.api.events_out")

SUBPROTOCOL = "prefect"
# Prefect's defaults (PREFECT_SERVER_EVENTS_MAXIMUM_WEBSOCKET_BACKFILL and _WEBSOCKET_BACKFILL_PAGE_SIZE).
MAX_BACKFILL = dt.timedelta(minutes=15)
BACKFILL_PAGE_SIZE = 250
# A close frame's reason may hold at most 123 bytes.
MAX_CLOSE_REASON_BYTES = 123

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_POLICY_VIOLATION = 1008
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013


class EventsOutHandler(tornado.websocket.WebSocketHandler):
    """One subscriber of the live event stream."""

    context: ServerContext

    def initialize(self, context: ServerContext) -> None:
        self.context = context
        self._awaiting: str = "auth"
        self._pump: asyncio.Task[None] | None = None

    def check_origin(self, origin: str) -> bool:
        """Baton's API uses no cookies, so a page from another origin gains nothing by connecting."""
        return True

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return SUBPROTOCOL if SUBPROTOCOL in subprotocols else None

    def open(self, *args: Any, **kwargs: Any) -> None:
        self._awaiting = "auth" if self.selected_subprotocol == SUBPROTOCOL else "filter"

    def on_message(self, message: str | bytes) -> None:
        if self._awaiting == "auth":
            self._on_auth(message)
        elif self._awaiting == "filter":
            self._on_filter(message)
        # Anything a client sends once it is streaming is ignored, as Prefect does.

    def on_close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()

    def _on_auth(self, message: str | bytes) -> None:
        data = json_object(message)
        if data is None or data.get("type") != "auth":
            self._refuse(
                CLOSE_POLICY_VIOLATION,
                'Expected an auth message first: {"type": "auth", "token": ...}.',
            )
            return
        self._awaiting = "filter"
        self.write_message(orjson.dumps({"type": "auth_success"}).decode())

    def _on_filter(self, message: str | bytes) -> None:
        data = json_object(message)
        if data is None or data.get("type") != "filter":
            self._refuse(
                CLOSE_PROTOCOL_ERROR,
                'Expected a filter message: {"type": "filter", "filter": {...}, "backfill": true}.',
            )
            return
        try:
            spec = EventFilter.model_validate(data.get("filter"))
        except pydantic.ValidationError as exc:
            self._refuse(CLOSE_PROTOCOL_ERROR, f"Invalid filter: {_first_error(exc)}")
            return
        earliest = dt.datetime.now(dt.UTC) - MAX_BACKFILL
        occurred = spec.occurred.model_copy(update={"since": max(spec.occurred.since, earliest)})
        spec = spec.model_copy(update={"occurred": occurred, "order": EventOrder.ASC})
        self._awaiting = "nothing"
        self._pump = asyncio.create_task(self._stream(spec, bool(data.get("backfill", True))))

    async def _stream(self, spec: EventFilter, backfill: bool) -> None:
        stream = self.context.event_stream
        try:
            # Subscribe before backfilling, so that an event recorded meanwhile is not missed; it may come twice,
            # and the second copy is skipped.
            async with stream.subscribe(spec) as subscription:
                sent = await self._backfill(spec) if backfill else set()
                while True:
                    event = await subscription.get()
                    if event["id"] in sent:
                        sent.discard(event["id"])
                        continue
                    await self._send(event)
        except tornado.websocket.WebSocketClosedError:
            pass
        except SubscriberTooSlow:
            self._refuse(CLOSE_TRY_AGAIN_LATER, "Too slow to keep up with the event stream; reconnect.")
        except ServiceUnavailable:
            self._refuse(CLOSE_TRY_AGAIN_LATER, "The database is busy or unreachable; reconnect shortly.")
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("Streaming events to a websocket subscriber failed.")
            self._refuse(CLOSE_INTERNAL_ERROR, "Internal server error.")

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
                    await self._send(event)
            if len(page) < BACKFILL_PAGE_SIZE:
                return sent
            offset += BACKFILL_PAGE_SIZE

    async def _send(self, event: dict[str, Any]) -> None:
        # Awaiting the write makes a slow client slow this subscriber down, until its queue overflows.
        await self.write_message(dumps({"type": "event", "event": event}).decode())

    def _refuse(self, code: int, reason: str) -> None:
        refuse(self, code, reason)


def refuse(socket: tornado.websocket.WebSocketHandler, code: int, reason: str) -> None:
    """Close `socket` with `code` and `reason`, cut to what a close frame may hold."""
    encoded = reason.encode()
    if len(encoded) > MAX_CLOSE_REASON_BYTES:
        reason = encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."
    socket.close(code, reason)


def json_object(message: str | bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _first_error(exc: pydantic.ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


routes = [
    (r"/events/out/?", EventsOutHandler),
]

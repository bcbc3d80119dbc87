"""`EventStream`: newly recorded events, fanned out to the `/events/out` subscribers of one server process.

Events reach the database through the queue and its actors, possibly in another process, so the stream follows the
`events` table by its `recorded` column (see `baton.server.live_stream`).
"""

from __future__ import annotations

from typing import Any

from baton.server.database.engine import Database
from baton.server.live_stream import LiveStream, StreamSource, SubscriberTooSlow, Subscription
from baton.server.models.events import event_queries
from baton.server.schemas.event_filters import EventFilter, matches

__all__ = ["EVENTS", "EventStream", "SubscriberTooSlow", "Subscription"]

EVENTS: StreamSource[EventFilter] = StreamSource(
    name="events",
    read_keys=event_queries.read_recorded_ids,
    read_rows=event_queries.read_events_by_id,
    matches=matches,
)


class EventStream(LiveStream[EventFilter]):
    """The live events of one database for the subscribers in this process."""

    def __init__(self, database: Database, **tuning: Any) -> None:
        super().__init__(database, EVENTS, **tuning)

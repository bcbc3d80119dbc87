"""`EventStream`: newly recorded events, fanned out to the websocket subscribers of one server process.

Events reach the database through the queue and its actors, possibly in another process, so the stream follows
the `events` table itself: one poller task per process (and database) reads the events recorded since it last
looked and offers each one to every subscriber whose filter it matches (the server context owns the process's
stream, `ServerContext.event_stream`). Transactions can commit out of `recorded`
order, so every poll looks back over an overlap window and skips the ids it has already delivered.

The poller starts with the first subscriber and stops when the last one leaves. Each subscriber has a bounded
queue; one that falls behind by more than that is marked too slow and must disconnect (its client reconnects and
backfills), so a stalled socket cannot make the server's memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from baton.errors import BatonError
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.events import event_queries
from baton.server.schemas.event_filters import EventFilter, matches

logger = logging.getLogger("baton.events.stream")

# How often the poller looks for new events; a subscriber sees an event about this long after it is recorded.
POLL_INTERVAL_SECONDS = 0.25
# How far back each poll looks again for events whose transaction committed after a later-recorded one.
OVERLAP_SECONDS = 2.0
# Ids read per query while catching up; a burst larger than this takes several queries in one poll.
POLL_PAGE_SIZE = 500
# Events a subscriber may have waiting; a subscriber further behind is disconnected.
SUBSCRIBER_BACKLOG = 1000


class SubscriberTooSlow(BatonError):
    """The subscriber did not keep up with the stream and was dropped from it."""


class Subscription:
    """One subscriber's filter and its queue of matching events."""

    def __init__(self, spec: EventFilter, backlog: int = SUBSCRIBER_BACKLOG) -> None:
        self.filter = spec
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=backlog)
        self.too_slow = False

    def offer(self, event: dict[str, Any]) -> bool:
        """Queue `event` if it matches; False when the queue is full (the subscriber is then too slow)."""
        if self.too_slow or not matches(self.filter, event):
            return True
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.too_slow = True
            return False
        return True

    async def get(self) -> dict[str, Any]:
        """The next matching event; raises SubscriberTooSlow once the subscriber has overflowed its queue."""
        if self.too_slow:
            raise SubscriberTooSlow("The subscriber fell too far behind the event stream.")
        return await self.queue.get()


class EventStream:
    """The live events of one database for the subscribers in this process."""

    def __init__(
        self,
        database: Database,
        *,
        poll_interval: float = POLL_INTERVAL_SECONDS,
        overlap: float = OVERLAP_SECONDS,
        backlog: int = SUBSCRIBER_BACKLOG,
    ) -> None:
        self.database = database
        self.backlog = backlog
        self.poll_interval = poll_interval
        self.overlap = dt.timedelta(seconds=overlap)
        self._subscriptions: set[Subscription] = set()
        self._poller: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        # Ids delivered within the overlap window, with their recorded time (to forget them once past it).
        self._seen: dict[uuid.UUID, dt.datetime] = {}
        self._watermark = utcnow()

    @property
    def running(self) -> bool:
        return self._poller is not None and not self._poller.done()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    @contextlib.asynccontextmanager
    async def subscribe(self, spec: EventFilter) -> AsyncIterator[Subscription]:
        """A subscription, for the duration of the block, to the matching events committed from now on."""
        subscription = Subscription(spec, self.backlog)
        self._subscriptions.add(subscription)
        try:
            if not self.running:
                await self._start()
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            if not self._subscriptions:
                await self.stop()

    async def _start(self) -> None:
        async with self._starting:
            if self.running:
                return
            self._watermark = utcnow()
            self._seen.clear()
            # Events already committed are the backfill's to send; only later ones are live.
            await self.poll(deliver=False)
            self._poller = asyncio.create_task(self._poll_forever(), name="baton-event-stream")

    async def stop(self) -> None:
        """Stop the poller (it restarts with the next subscriber)."""
        poller, self._poller = self._poller, None
        if poller is not None and not poller.done():
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A busy or unreachable database only delays the stream; the next poll picks up where this one left.
                logger.warning("Reading new events for the live stream failed; retrying.", exc_info=True)
            await asyncio.sleep(self.poll_interval)

    async def poll(self, *, deliver: bool = True) -> int:
        """Read the events committed since the last poll and offer them to the subscribers (only mark them as
        seen unless `deliver`); how many were new."""
        since = self._watermark - self.overlap
        fresh: list[uuid.UUID] = []
        after: tuple[dt.datetime, uuid.UUID] | None = None
        async with self.database.read() as connection:
            while True:
                keys = await event_queries.read_recorded_ids(connection, since, after, POLL_PAGE_SIZE)
                for event_id, recorded in keys:
                    if event_id not in self._seen:
                        self._seen[event_id] = recorded
                        fresh.append(event_id)
                    self._watermark = max(self._watermark, recorded)
                if len(keys) < POLL_PAGE_SIZE:
                    break
                after = keys[-1][1], keys[-1][0]
            if not deliver:
                fresh = []
            events: list[dict[str, Any]] = []
            for start in range(0, len(fresh), POLL_PAGE_SIZE):
                events += await event_queries.read_events_by_id(connection, fresh[start : start + POLL_PAGE_SIZE])
        self._forget_before(self._watermark - self.overlap)
        for event in events:
            for subscription in list(self._subscriptions):
                if not subscription.offer(event):
                    logger.warning("Dropping a live event subscriber that fell %d events behind.", self.backlog)
                    self._subscriptions.discard(subscription)
            await asyncio.sleep(0)
        return len(events)

    def _forget_before(self, moment: dt.datetime) -> None:
        self._seen = {event_id: recorded for event_id, recorded in self._seen.items() if recorded >= moment}

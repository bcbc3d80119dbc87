"""`LiveStream`: the rows newly written to one table, fanned out to the websocket subscribers of one server process.

Events and log lines reach the database from any process (an actor, another API process behind the same load
balancer), so a live stream follows the table itself: one poller task per process, table and database reads the
rows written since it last looked and offers each one to every subscriber whose filter it matches (the server context
owns the process's streams, `ServerContext.event_stream` and `.log_stream`). What a stream follows is its
`StreamSource`: how to read the keys written since a time, the rows by id, and whether a row matches a filter.
Transactions can commit out of write-time order, so every poll looks back over an overlap window and skips the ids it
has already delivered.

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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import BatonError
from baton.server.database.engine import Database
from baton.server.database.types import utcnow

logger = logging.getLogger("baton.live_stream")

# How often the poller looks for new rows; a subscriber sees a row about this long after it is written.
POLL_INTERVAL_SECONDS = 0.25
# How far back each poll looks again for rows whose transaction committed after a later-written one.
OVERLAP_SECONDS = 2.0
# Ids read per query while catching up; a burst larger than this takes several queries in one poll.
POLL_PAGE_SIZE = 500
# Rows a subscriber may have waiting; a subscriber further behind is disconnected.
SUBSCRIBER_BACKLOG = 1000

SpecT = TypeVar("SpecT")
Row = dict[str, Any]


@dataclass(frozen=True)
class StreamSource(Generic[SpecT]):
    """What a live stream follows. `read_keys(connection, since, after, limit)` gives (id, written time) of the rows
    written at or after `since` and past the key `after`, in (time, id) order; `read_rows(connection, ids)` the rows
    in wire shape, in the order written; `matches(spec, row)` whether a row passes a subscriber's filter."""

    name: str
    read_keys: Callable[
        [AsyncConnection, dt.datetime, tuple[dt.datetime, uuid.UUID] | None, int],
        Awaitable[list[tuple[uuid.UUID, dt.datetime]]],
    ]
    read_rows: Callable[[AsyncConnection, list[uuid.UUID]], Awaitable[list[Row]]]
    matches: Callable[[SpecT, Row], bool]


class SubscriberTooSlow(BatonError):
    """The subscriber did not keep up with the stream and was dropped from it."""


class Subscription(Generic[SpecT]):
    """One subscriber's filter and its queue of matching rows."""

    def __init__(self, spec: SpecT, matches: Callable[[SpecT, Row], bool], backlog: int = SUBSCRIBER_BACKLOG) -> None:
        self.filter = spec
        self._matches = matches
        self.queue: asyncio.Queue[Row] = asyncio.Queue(maxsize=backlog)
        self.too_slow = False

    def offer(self, row: Row) -> bool:
        """Queue `row` if it matches; False when the queue is full (the subscriber is then too slow)."""
        if self.too_slow or not self._matches(self.filter, row):
            return True
        try:
            self.queue.put_nowait(row)
        except asyncio.QueueFull:
            self.too_slow = True
            return False
        return True

    async def get(self) -> Row:
        """The next matching row; raises SubscriberTooSlow once the subscriber has overflowed its queue."""
        if self.too_slow:
            raise SubscriberTooSlow("The subscriber fell too far behind the live stream.")
        return await self.queue.get()


class LiveStream(Generic[SpecT]):
    """The live rows of one source in one database for the subscribers in this process."""

    def __init__(
        self,
        database: Database,
        source: StreamSource[SpecT],
        *,
        poll_interval: float = POLL_INTERVAL_SECONDS,
        overlap: float = OVERLAP_SECONDS,
        backlog: int = SUBSCRIBER_BACKLOG,
    ) -> None:
        self.database = database
        self.source = source
        self.backlog = backlog
        self.poll_interval = poll_interval
        self.overlap = dt.timedelta(seconds=overlap)
        self._subscriptions: set[Subscription[SpecT]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        # Ids delivered within the overlap window, with their written time (to forget them once past it).
        self._seen: dict[uuid.UUID, dt.datetime] = {}
        self._watermark = utcnow()

    @property
    def running(self) -> bool:
        return self._poller is not None and not self._poller.done()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    @contextlib.asynccontextmanager
    async def subscribe(self, spec: SpecT) -> AsyncIterator[Subscription[SpecT]]:
        """A subscription, for the duration of the block, to the matching rows committed from now on."""
        subscription = Subscription(spec, self.source.matches, self.backlog)
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
            # Rows already committed are the backfill's to send (if any); only later ones are live.
            await self.poll(deliver=False)
            self._poller = asyncio.create_task(self._poll_forever(), name=f"baton-{self.source.name}-stream")

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
                logger.warning("Reading new %s for the live stream failed; retrying.", self.source.name, exc_info=True)
            await asyncio.sleep(self.poll_interval)

    async def poll(self, *, deliver: bool = True) -> int:
        """Read the rows committed since the last poll and offer them to the subscribers (only mark them as
        seen unless `deliver`); how many were new."""
        since = self._watermark - self.overlap
        fresh: list[uuid.UUID] = []
        after: tuple[dt.datetime, uuid.UUID] | None = None
        async with self.database.read() as connection:
            while True:
                keys = await self.source.read_keys(connection, since, after, POLL_PAGE_SIZE)
                for row_id, written in keys:
                    if row_id not in self._seen:
                        self._seen[row_id] = written
                        fresh.append(row_id)
                    self._watermark = max(self._watermark, written)
                if len(keys) < POLL_PAGE_SIZE:
                    break
                after = keys[-1][1], keys[-1][0]
            if not deliver:
                fresh = []
            rows: list[Row] = []
            for start in range(0, len(fresh), POLL_PAGE_SIZE):
                rows += await self.source.read_rows(connection, fresh[start : start + POLL_PAGE_SIZE])
        self._forget_before(self._watermark - self.overlap)
        for row in rows:
            for subscription in list(self._subscriptions):
                if not subscription.offer(row):
                    logger.warning("Dropping a live %s subscriber that fell %d behind.", self.source.name, self.backlog)
                    self._subscriptions.discard(subscription)
            await asyncio.sleep(0)
        return len(rows)

    def _forget_before(self, moment: dt.datetime) -> None:
        self._seen = {row_id: written for row_id, written in self._seen.items() if written >= moment}

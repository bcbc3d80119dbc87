"""Publishing from the API process: events and flow-run state changes are buffered and sent in batches.

Handlers never wait on the database for the events pipeline, and only wait on the queue when it falls behind by
`events_max_pending` events (back-pressure instead of unbounded memory). Sending happens on one background thread,
because Dramatiq's `enqueue` is blocking I/O and must not stall the event loop; one thread also keeps batches in order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import uuid
from collections.abc import Awaitable, Sequence
from typing import Any

import dramatiq

from baton.queue import messages
from baton.queue.backlog import outstanding_messages
from baton.queue.messages import FlowRunStateChange, QueuedEvent

logger = logging.getLogger("baton.queue")

# A flow-run state change goes out within this many seconds even when events may wait longer (see the setting
# `events_flush_interval`): the notifications they lead to are waited for by people. Not much less, though: the
# actors' cost is mostly per message, and a shorter wait sends a burst of failing runs in more, smaller messages.
STATE_CHANGE_FLUSH_SECONDS = 0.1
# How often the actors' backlog is measured while requests wait on it, and the longest a request waits.
BACKLOG_POLL_SECONDS = 0.05
BACKLOG_MAX_WAIT_SECONDS = 1.0
BACKLOG_WARNING_INTERVAL_SECONDS = 60.0


class Publisher:
    """Buffers outgoing events and state changes of one server process and sends them as batch messages, a batch
    per workspace (`workspace_id` None: the default workspace; see `baton.server.workspace_publisher` for the view
    a workspace's context publishes through)."""

    def __init__(
        self,
        broker: dramatiq.Broker,
        *,
        batch_size: int,
        flush_interval: float,
        max_pending: int,
        backlog_limit: int = 0,
    ) -> None:
        self.broker = broker
        self.backlog_limit = backlog_limit
        self._backlog = 0
        self._backlog_sampled_at = float("-inf")
        self._backlog_warned_at = float("-inf")
        self._backlog_error_at = float("-inf")
        self._sampling = asyncio.Lock()
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self._events: dict[uuid.UUID | None, list[QueuedEvent]] = {}
        self._buffered = 0
        self._changes: dict[uuid.UUID | None, list[FlowRunStateChange]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Future[None]] = set()
        self._room = asyncio.Condition()
        self._in_flight = 0
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="baton-publisher")
        self.sent_events = 0
        self.failed_events = 0

    @classmethod
    def from_settings(cls, broker: dramatiq.Broker, settings: Any) -> Publisher:
        return cls(
            broker,
            batch_size=settings.events_batch_size,
            flush_interval=settings.events_flush_interval,
            max_pending=settings.events_max_pending,
            backlog_limit=settings.queue_backlog_limit,
        )

    @property
    def pending(self) -> int:
        """Events buffered or being sent."""
        return self._buffered + self._in_flight

    async def publish_events(
        self, events: Sequence[QueuedEvent], *, wait: bool = False, workspace_id: uuid.UUID | None = None
    ) -> None:
        """Queue `events` (JSON-mode dicts with `received` set, or their JSON text) of workspace `workspace_id`. With
        `wait`, return only once they are in the broker (for callers that acknowledge durability, such as `POST
        /events`)."""
        if self.pending >= self.max_pending:
            async with self._room:
                await self._room.wait_for(lambda: self.pending < self.max_pending)
        self._buffer(events, workspace_id)
        if wait or self._buffered >= self.batch_size:
            await self.flush()
        else:
            self._schedule_flush(self.flush_interval)

    def offer_events(
        self, events: Sequence[QueuedEvent], workspace_id: uuid.UUID | None = None
    ) -> Awaitable[None] | None:
        """Queue `events` like `publish_events`, but without a coroutine when they fit in the buffer (the common case:
        a websocket frame is one event, and a task per frame costs the API process CPU under load); the
        awaitable to wait on when the buffer is full or the batch is due now."""
        if self.pending >= self.max_pending or self._buffered + len(events) >= self.batch_size:
            return self.publish_events(events, workspace_id=workspace_id)
        self._buffer(events, workspace_id)
        self._schedule_flush(self.flush_interval)
        return None

    def _buffer(self, events: Sequence[QueuedEvent], workspace_id: uuid.UUID | None) -> None:
        self._events.setdefault(workspace_id, []).extend(events)
        self._buffered += len(events)

    async def confirm(self) -> bool:
        """Send what is buffered and wait until every event queued before the call has gone to the broker: True if
        all of them did, False if any failed meanwhile (a client's checkpoint, see baton.server.buffered_websocket)."""
        failed = self.failed_events
        await self.flush()
        # The executor has one thread: a no-op behind the messages already handed to it ends after them.
        await asyncio.get_running_loop().run_in_executor(self._executor, _nothing)
        return self.failed_events == failed

    async def send(self, message: dramatiq.Message[Any]) -> None:
        """Queue one actor message now, on the sending thread; a queue that cannot be reached is logged, not raised
        (the periodic job that the message hurries along does the work later anyway)."""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self.broker.enqueue, message)
        except Exception:
            logger.exception("Could not queue a %s message", message.actor_name)

    async def wait_for_actors(self) -> None:
        """Return once the actors are at most `backlog_limit` messages behind, or after BACKLOG_MAX_WAIT_SECONDS.

        A burst of state changes otherwise outruns the actors that record their events and send their
        notifications, and each message of the burst waits behind all the earlier ones, longer the longer the burst
        lasts. Holding the new changes back for a moment keeps that wait short; the bound keeps the API answering
        when no services process runs."""
        if self.backlog_limit <= 0:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BACKLOG_MAX_WAIT_SECONDS
        while await self._sampled_backlog() > self.backlog_limit:
            if loop.time() >= deadline:
                self._warn_backlog(loop.time())
                return
            await asyncio.sleep(BACKLOG_POLL_SECONDS)

    def _warn_backlog(self, now: float) -> None:
        """Say (at most once a minute) that state changes are being held the longest time: the actors are not
        keeping up, or none is running."""
        if now - self._backlog_warned_at < BACKLOG_WARNING_INTERVAL_SECONDS:
            return
        self._backlog_warned_at = now
        logger.warning(
            "The actors are %d messages behind (more than BATON_QUEUE_BACKLOG_LIMIT=%d): flow-run state changes wait "
            "%g s each. In Redis mode, check that `baton server services` is running and keeping up.",
            self._backlog,
            self.backlog_limit,
            BACKLOG_MAX_WAIT_SECONDS,
        )

    async def _sampled_backlog(self) -> int:
        """The actors' backlog, measured at most every BACKLOG_POLL_SECONDS however many requests ask."""
        loop = asyncio.get_running_loop()
        async with self._sampling:
            if loop.time() - self._backlog_sampled_at >= BACKLOG_POLL_SECONDS:
                try:
                    self._backlog = await loop.run_in_executor(self._executor, outstanding_messages, self.broker)
                except Exception as exc:
                    # Unknown counts as none: a queue that cannot be read must not hold requests. Said once a minute.
                    if loop.time() - self._backlog_error_at >= BACKLOG_WARNING_INTERVAL_SECONDS:
                        self._backlog_error_at = loop.time()
                        logger.warning("Could not read the queue backlog; state changes do not wait for it: %s", exc)
                    self._backlog = 0
                self._backlog_sampled_at = loop.time()
        return self._backlog

    def flow_run_state_changed(self, change: FlowRunStateChange, workspace_id: uuid.UUID | None = None) -> None:
        """Note a committed flow-run state change of workspace `workspace_id`; its event is built and recorded by an
        actor."""
        self._changes.setdefault(workspace_id, []).append(change)
        self._schedule_flush(min(self.flush_interval, STATE_CHANGE_FLUSH_SECONDS))

    def _schedule_flush(self, delay: float) -> None:
        """Flush within `delay` seconds: keep a timer due sooner, bring forward one due later."""
        if self._timer is not None and delay >= self.flush_interval:
            return  # a timer set earlier with at most this delay is due sooner
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        if self._timer is not None:
            if self._timer.when() <= due:
                return
            self._timer.cancel()
        self._timer = loop.call_at(due, self._flush_soon)

    def _flush_soon(self) -> None:
        self._timer = None
        future = asyncio.ensure_future(self.flush())
        self._sending.add(future)
        future.add_done_callback(self._sending.discard)

    async def flush(self) -> None:
        """Send everything buffered now, in batches of at most `batch_size` events."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        outgoing: list[tuple[dramatiq.Message[Any], int]] = []
        buffered, self._events, self._buffered = self._events, {}, 0
        for workspace_id, events in buffered.items():
            for start in range(0, len(events), self.batch_size):
                batch = events[start : start + self.batch_size]
                outgoing.append((messages.in_workspace(messages.record_events(batch), workspace_id), len(batch)))
        changed, self._changes = self._changes, {}
        for workspace_id, changes in changed.items():
            outgoing.append((messages.in_workspace(messages.emit_flow_run_events(changes), workspace_id), 0))
        if not outgoing:
            return
        loop = asyncio.get_running_loop()
        for message, count in outgoing:
            self._in_flight += count
            try:
                await loop.run_in_executor(self._executor, self.broker.enqueue, message)
                self.sent_events += count
            except Exception:
                # The queue is unreachable: the client's own retry (websocket reconnect and resend) is the recovery.
                self.failed_events += count
                logger.exception("Could not queue a %s message (%d events)", message.actor_name, count)
            finally:
                self._in_flight -= count
        async with self._room:
            self._room.notify_all()

    async def close(self) -> None:
        """Send what is buffered, then stop the sending thread."""
        await self.flush()
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        await self.flush()
        self._executor.shutdown(wait=True)


def _nothing() -> None:
    return None

"""A Redis "doorbell" per queue, so that an idle services process waits for work instead of polling for it.

Dramatiq's Redis consumer finds a queue empty, sleeps, and asks again: with Baton's cap on that sleep (100 ms, to keep
an event's path to the database short) an idle services process kept making Lua calls that found nothing, and spent
CPU on them. Here, a consumer that finds its queue empty (and has room for more messages) blocks on the queue's
bell list instead (BLPOP), for at most IDLE_WAIT_MS. Whoever enqueues a message pushes a ring onto the bell list, which
wakes one waiting consumer at once; the ring stays in the list until a consumer takes it, so a message enqueued
between a consumer's empty fetch and its BLPOP is not missed.

The bell only hurries consumers along: a message that arrives without a ring (Dramatiq requeuing a dead process's
messages, a sender that does not ring) is still fetched at the next timeout. The list is trimmed to MAX_RINGS, as rings
pile up while every consumer is busy fetching and none is waiting.

Delay queues (Dramatiq's `<queue>.DQ`, which hold retries) have bells too. Their consumer keeps the delayed messages
it fetched until they are due, and its worker thread moves due ones to the queue only between fetches, so it waits
on the bell no longer than until the earliest of those is due.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import _RedisConsumer
from dramatiq.common import compute_backoff, current_millis
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message

# The longest an idle consumer waits on its bell before fetching anyway (which also renews its heartbeat and gives
# Dramatiq's maintenance its chance). Keep it below the Redis client's socket timeout (5 s by default), which would
# end the wait with an error.
IDLE_WAIT_MS = 1_000
# Enough rings to wake every consumer of a queue at once (processes x queues of a large install); a stale ring left
# over costs one empty fetch.
MAX_RINGS = 32


def bell_key(namespace: str, queue_name: str) -> str:
    """The Redis list whose rings wake the consumers of `queue_name`."""
    return f"{namespace}:{queue_name}.bell"


def ring(client: redis.Redis, namespace: str, queue_name: str) -> None:
    """Wake one consumer waiting on `queue_name` (or the next one to wait)."""
    key = bell_key(namespace, queue_name)
    pipeline = client.pipeline(transaction=False)
    pipeline.rpush(key, 1)
    pipeline.ltrim(key, -MAX_RINGS, -1)
    pipeline.execute()


class DoorbellConsumer(_RedisConsumer):  # type: ignore[misc]
    """Dramatiq's Redis consumer, waiting on the queue's bell when the queue is empty.

    A consumer whose prefetch is full (its messages are being worked on) cannot take more, so it polls with Dramatiq's
    backoff capped at `busy_poll_ms` as before: its own acks, not a ring, make room. Once its worker is shutting down
    (`stop_waiting`), it polls that way when idle too, so that stopping does not wait out an idle wait."""

    def __init__(self, broker: Any, queue_name: str, prefetch: int, busy_poll_ms: int, idle_wait_ms: int) -> None:
        super().__init__(broker, queue_name, prefetch, busy_poll_ms)
        self.idle_wait_seconds = idle_wait_ms / 1000
        self.bell = bell_key(broker.namespace, queue_name)
        self.stopping = False
        # Of the delayed messages handed to the worker and not yet acked: message id -> when due (epoch ms).
        self.due_at: dict[str, int] = {}

    def __next__(self) -> Any:
        try:
            while True:
                if self.message_cache:
                    data = self.message_cache.pop(0)
                    if data is None:
                        continue
                    self.misses = 0
                    message = Message.decode(data)
                    self.queued_message_ids.add(message.message_id)
                    eta = message.options.get("eta")
                    if isinstance(eta, int | float):
                        self.due_at[message.message_id] = int(eta)
                    return MessageProxy(message)
                room = self.prefetch - self.outstanding_message_count
                if room > 0:
                    self.message_cache = self.broker.do_fetch(self.queue_name, room)
                    if self.message_cache:
                        continue
                    self._wait_for_ring()
                    return None
                self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
                time.sleep(backoff_ms / 1000)
                return None
        except redis.ConnectionError as exc:
            raise ConnectionClosed(exc) from None

    def ack(self, message: MessageProxy) -> None:
        self.due_at.pop(message.message_id, None)
        super().ack(message)

    def nack(self, message: MessageProxy) -> None:
        self.due_at.pop(message.message_id, None)
        super().nack(message)

    def stop_waiting(self) -> None:
        """Wait no more on the bell (the worker is shutting down); the broker ends a wait under way through its wake
        list (`BatonRedisBroker.end_idle_waits`)."""
        self.stopping = True

    def _wait_for_ring(self) -> None:
        if self.stopping:
            time.sleep(self.timeout / 1000)
            return
        wait = self.idle_wait_seconds
        if self.due_at:
            wait = min(wait, (min(self.due_at.values()) - current_millis()) / 1000)
            if wait < 0.001:  # due now (and BLPOP's timeout 0 would mean "forever")
                return
        try:
            self.broker.client.blpop([self.bell, self.broker.wake_key], timeout=wait)
        except redis.TimeoutError:
            # The client's socket timeout (redis-py's default is 5 s) ended the wait first: as good as a ring.
            pass

"""The beat: sends each periodic job's message once per period, once per cluster.

Every services process runs a beat thread, but only the holder of a Redis lease (SET NX PX, renewed well before it
expires) sends. If the holder dies its lease runs out and another process takes over within one lease period. Each
period's send is also claimed with its own SET NX key, so even two processes that both believe they lead (a paused
process waking up after losing its lease) cannot send the same period twice. Without Redis (embedded mode) there is
one process, and the beat simply sends.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dramatiq

from baton.queue.redis_mode import redis_errors

if TYPE_CHECKING:
    import redis

logger = logging.getLogger("baton.beat")

# Renew the lease when a third of it has passed, so two missed renewals still keep it.
RENEW_FRACTION = 1 / 3
# How often the loop wakes up to renew, try to lead and check for due jobs.
TICK_SECONDS = 0.25

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class PeriodicJob:
    """A message to send every `interval` seconds (periods are aligned to the epoch, the same in every process)."""

    name: str
    interval: float
    make_message: Callable[[], dramatiq.Message[Any]]


class Lease:
    """Leadership over the beat, held in Redis under `key` by a random token."""

    def __init__(self, client: redis.Redis, key: str, seconds: float) -> None:
        self.client = client
        self.key = key
        self.milliseconds = max(1, int(seconds * 1000))
        self.token = uuid.uuid4().hex
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire_or_renew(self, held: bool) -> bool:
        """Whether this process holds the lease after trying to take or extend it."""
        if held and self._renew(keys=[self.key], args=[self.token, self.milliseconds]):
            return True
        return bool(self.client.set(self.key, self.token, nx=True, px=self.milliseconds))

    def release(self) -> None:
        self._release(keys=[self.key], args=[self.token])


class Beat:
    """A daemon thread sending `jobs` through `broker`; with `client`, only while holding the cluster lease."""

    def __init__(
        self,
        broker: dramatiq.Broker,
        jobs: list[PeriodicJob],
        *,
        client: redis.Redis | None = None,
        namespace: str = "baton",
        lease_seconds: float = 10.0,
    ) -> None:
        self.broker = broker
        self.jobs = jobs
        self.client = client
        self.namespace = namespace
        self.lease = Lease(client, f"{namespace}:beat:leader", lease_seconds) if client is not None else None
        self.lease_seconds = lease_seconds
        self.is_leader = client is None
        self._last_period: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="baton-beat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop sending and give up the lease, so another process can lead at once."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self.lease is not None and self.is_leader:
            try:
                self.lease.release()
            except redis_errors():
                logger.warning("Could not release the beat lease; it expires by itself")
        self.is_leader = self.client is None

    def _run(self) -> None:
        last_renewal = 0.0
        while not self._stop.is_set():
            try:
                now = time.monotonic()
                if self.lease is not None and (
                    not self.is_leader or now - last_renewal >= self.lease_seconds * RENEW_FRACTION
                ):
                    was_leader = self.is_leader
                    self.is_leader = self.lease.acquire_or_renew(self.is_leader)
                    if self.is_leader:
                        last_renewal = now
                    if self.is_leader != was_leader:
                        logger.info("Beat %s the lead", "took" if self.is_leader else "lost")
                if self.is_leader:
                    self.send_due(time.time())
            except redis_errors(OSError) as exc:
                logger.warning("Beat cannot reach Redis: %s", exc)
                self.is_leader = False
            self._stop.wait(TICK_SECONDS)

    def send_due(self, now: float) -> list[str]:
        """Send the message of every job whose current period has not been sent; the names of those sent."""
        sent = []
        for job in self.jobs:
            period = math.floor(now / job.interval)
            if self._last_period.get(job.name) == period:
                continue
            self._last_period[job.name] = period
            if self.client is not None:
                claim = f"{self.namespace}:beat:{job.name}:{period}"
                if not self.client.set(claim, "1", nx=True, px=max(1000, int(job.interval * 2000))):
                    continue
            self.broker.enqueue(job.make_message())
            logger.debug("Beat sent %s for period %d", job.name, period)
            sent.append(job.name)
        return sent

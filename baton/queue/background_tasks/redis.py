"""The background task queue in Redis, shared by every API process of an install.

Keys under `<namespace>:tasks:` (the namespace is the install's): a list of scheduled runs and one of retries per
task key; the runs in flight (`inflight`: token -> run, `inflight.lists`: token -> its retry list, `inflight.due`:
token -> when its process must have renewed it, epoch ms); the connected workers (`workers`: id -> JSON).

Taking a run moves it into the in-flight hashes in one script, so it is never only in a process's memory. An ack
deletes it; a subscriber that disconnects first has it pushed back to the retry list. If the API process itself
dies, its in-flight runs are no longer renewed, and any process's sweep (every SWEEP_SECONDS) pushes them back once
they are IN_FLIGHT_SECONDS overdue. Enqueuing publishes on a channel that each process listens to with one
connection and that wakes its waiting subscribers; they also look every POLL_SECONDS in case a message was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from baton.errors import ServiceUnavailable
from baton.queue.background_tasks.base import WORKER_STALE_SECONDS, Delivery, TaskQueue, TaskWorkerSeen

logger = logging.getLogger("baton.queue.background_tasks")

# A waiting subscriber looks at its lists at least this often, even without a ring (a lost pub/sub message).
POLL_SECONDS = 1.0
# A run in flight whose process has not renewed it for this long is taken to be orphaned and served again; a live
# process renews it every RENEW_SECONDS while its subscriber has not acknowledged it.
IN_FLIGHT_SECONDS = 30.0
RENEW_SECONDS = 10.0
# How often each process looks for orphaned in-flight runs.
SWEEP_SECONDS = 5.0

# KEYS: retry lists..., scheduled lists..., inflight, inflight.lists, inflight.due; ARGV: n keys, token, due ms.
_TAKE = """
local n = tonumber(ARGV[1])
for i = 1, 2 * n do
  local payload = redis.call('lpop', KEYS[i])
  if payload then
    local index = ((i - 1) % n) + 1
    redis.call('hset', KEYS[2 * n + 1], ARGV[2], payload)
    redis.call('hset', KEYS[2 * n + 2], ARGV[2], KEYS[index])
    redis.call('zadd', KEYS[2 * n + 3], ARGV[3], ARGV[2])
    return {index, payload}
  end
end
return false
"""
# KEYS: inflight, inflight.lists, inflight.due; ARGV: tokens... Pushes each back to its retry list.
_REQUEUE = """
local count = 0
for _, token in ipairs(ARGV) do
  local payload = redis.call('hget', KEYS[1], token)
  local list = redis.call('hget', KEYS[2], token)
  if payload and list then
    redis.call('rpush', list, payload)
    count = count + 1
  end
  redis.call('hdel', KEYS[1], token)
  redis.call('hdel', KEYS[2], token)
  redis.call('zrem', KEYS[3], token)
end
return count
"""


class RedisTaskQueue(TaskQueue):
    poll_seconds = POLL_SECONDS

    def __init__(self, url: str, namespace: str) -> None:
        super().__init__()
        self.namespace = namespace
        self.client: aioredis.Redis = aioredis.Redis.from_url(url)
        self._inflight = f"{namespace}:inflight"
        self._inflight_lists = f"{namespace}:inflight.lists"
        self._inflight_due = f"{namespace}:inflight.due"
        self._workers = f"{namespace}:workers"
        self._channel = f"{namespace}:ring"
        self._take_script = self.client.register_script(_TAKE)
        self._requeue_script = self.client.register_script(_REQUEUE)
        self._listener: asyncio.Task[None] | None = None
        self._swept_at = 0.0

    def _list(self, kind: str, task_key: str) -> str:
        return f"{self.namespace}:{kind}:{task_key}"

    async def enqueue(self, task_key: str, payload: bytes, *, retry: bool = False) -> None:
        try:
            pipeline = self.client.pipeline(transaction=False)
            pipeline.rpush(self._list("retry" if retry else "scheduled", task_key), payload)
            pipeline.publish(self._channel, task_key)
            await pipeline.execute()
        except RedisError as exc:
            raise ServiceUnavailable(f"Could not queue the background task run in Redis: {exc}") from exc

    async def take(self, task_keys: Sequence[str], wait_seconds: float) -> Delivery | None:
        self._ensure_listening()
        return await super().take(task_keys, wait_seconds)

    async def _take_now(self, task_keys: Sequence[str]) -> Delivery | None:
        await self._sweep_now_and_then()
        keys = list(dict.fromkeys(task_keys))
        token = uuid.uuid4().hex
        due = int((time.time() + IN_FLIGHT_SECONDS) * 1000)
        lists = [self._list("retry", key) for key in keys] + [self._list("scheduled", key) for key in keys]
        found = await self._take_script(
            keys=[*lists, self._inflight, self._inflight_lists, self._inflight_due], args=[len(keys), token, due]
        )
        if not found:
            return None
        index, payload = found
        return Delivery(keys[int(index) - 1], bytes(payload), token)

    async def ack(self, delivery: Delivery) -> None:
        pipeline = self.client.pipeline(transaction=True)
        pipeline.hdel(self._inflight, delivery.token)
        pipeline.hdel(self._inflight_lists, delivery.token)
        pipeline.zrem(self._inflight_due, delivery.token)
        await pipeline.execute()

    async def requeue(self, delivery: Delivery) -> None:
        await self._requeue(delivery.token)

    async def _requeue(self, *tokens: str) -> int:
        count = int(
            await self._requeue_script(keys=[self._inflight, self._inflight_lists, self._inflight_due], args=tokens)
        )
        if count:
            await self.client.publish(self._channel, "requeued")
        return count

    async def keep_in_flight(self, delivery: Delivery) -> None:
        due = int((time.time() + IN_FLIGHT_SECONDS) * 1000)
        await self.client.zadd(self._inflight_due, {delivery.token: due}, xx=True)

    async def _sweep_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < SWEEP_SECONDS:
            return
        self._swept_at = now
        overdue = await self.client.zrangebyscore(self._inflight_due, "-inf", int(time.time() * 1000), start=0, num=100)
        if overdue:
            count = await self._requeue(*[_text(token) for token in overdue])
            logger.warning("Served again %d background task runs whose API process stopped renewing them.", count)

    def _ensure_listening(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="baton-task-queue-ring")

    async def _listen(self) -> None:
        """Wake this process's waiting subscribers whenever any process enqueues a run."""
        while True:
            try:
                async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    async for _message in pubsub.listen():
                        self._signal_arrival()
            except asyncio.CancelledError:
                raise
            except RedisError as exc:
                # The subscribers still look every POLL_SECONDS meanwhile.
                logger.warning("Listening for background task runs failed (%s); listening again.", exc)
                await asyncio.sleep(POLL_SECONDS)

    async def observe_worker(self, worker_id: str, task_keys: Sequence[str]) -> None:
        now = dt.datetime.now(dt.UTC)
        seen = {"task_keys": sorted(set(task_keys)), "timestamp": now.isoformat(), "at": now.timestamp()}
        await self.client.hset(self._workers, worker_id, orjson.dumps(seen))

    async def forget_worker(self, worker_id: str) -> None:
        await self.client.hdel(self._workers, worker_id)

    async def read_workers(self, task_keys: Sequence[str] = ()) -> list[TaskWorkerSeen]:
        try:
            entries: dict[Any, Any] = await self.client.hgetall(self._workers)
        except RedisError as exc:
            raise ServiceUnavailable(f"Could not read the task workers from Redis: {exc}") from exc
        wanted, fresh_after, workers, stale = set(task_keys), time.time() - WORKER_STALE_SECONDS, [], []
        for worker_id, raw in entries.items():
            seen: dict[str, Any] = orjson.loads(raw)
            if seen["at"] < fresh_after:
                stale.append(worker_id)
            elif not wanted or wanted & set(seen["task_keys"]):
                workers.append(
                    TaskWorkerSeen(_text(worker_id), seen["task_keys"], dt.datetime.fromisoformat(seen["timestamp"]))
                )
        if stale:
            await self.client.hdel(self._workers, *stale)
        return workers

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.client.aclose()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

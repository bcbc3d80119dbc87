"""The websocket `/work_pools/{name}/workers/connect`: Prefect 3.9's worker channel (`work_pool_worker_channel.v1`).

The official worker opens it at start; while it is healthy the worker sends its heartbeats over it instead of
`POST .../workers/heartbeat` and learns of changes to its pool from snapshots instead of polling the pool:

1. The `prefect` handshake; the subprotocol is required (without it: 1008 `authentication_failed`).
2. The worker sends `worker.hello.v1`; the server answers `worker.ready.v1` with the accepted capabilities
   (`worker_heartbeat.v1` and `work_pool_snapshot.v1`; Baton rejects the optional `cleanup_delivery.v1`) and an
   initial snapshot of the pool, after creating the pool when asked and recording the worker's heartbeat.
3. The worker sends `worker.heartbeat.v1` every interval; each is recorded, and when the pool has changed since the
   last snapshot the server sends `work_pool.snapshot.v1` (reason `heartbeat_reconciliation`), as Prefect does.

Closing, as Prefect's server: a malformed or unexpected frame 1002 `protocol_error`; an unsupported version
1008 `unsupported_version`; a missing pool or queue, or a pool the worker may not create, 1008
`authorization_failed`; a heartbeat that cannot be stored 1011 `heartbeat_persistence_failed`; anything else 1011
`transient_server_error`. A closed worker falls back to REST and reconnects later.
"""

from __future__ import annotations

import logging
from typing import Any

import pydantic

from baton.errors import Forbidden, ObjectNotFound, ValidationFailed
from baton.server.api.base import dumps
from baton.server.api.prefect_sockets import (
    CLOSE_INTERNAL_ERROR,
    CLOSE_POLICY_VIOLATION,
    CLOSE_PROTOCOL_ERROR,
    PrefectSocket,
    json_object,
)
from baton.server.models.work_pools import worker_channel
from baton.server.schemas.worker_channel import WorkerHeartbeatFrame, WorkerHelloFrame

logger = logging.getLogger("baton.api.worker_channel")

PROTOCOL_ERROR = (CLOSE_PROTOCOL_ERROR, "protocol_error")
UNSUPPORTED_VERSION = (CLOSE_POLICY_VIOLATION, "unsupported_version")
AUTHORIZATION_FAILED = (CLOSE_POLICY_VIOLATION, "authorization_failed")
HEARTBEAT_PERSISTENCE_FAILED = (CLOSE_INTERNAL_ERROR, "heartbeat_persistence_failed")
TRANSIENT_SERVER_ERROR = (CLOSE_INTERNAL_ERROR, "transient_server_error")


class WorkerChannelSocket(PrefectSocket):
    """One worker's channel."""

    permission = "work_pool:poll"

    requires_subprotocol = True
    handshake_failed_reason = "authentication_failed"

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.pool_name: str = kwargs["name"]
        self._hello: WorkerHelloFrame | None = None
        self._pool_updated: Any = None
        self._snapshot_sequence = 1
        super().open(*args, **kwargs)

    async def on_client_message(self, message: str | bytes) -> None:
        """A coroutine, so that Tornado handles the worker's frames one at a time, in order."""
        data = json_object(message)
        try:
            if self._hello is None:
                await self._on_hello(WorkerHelloFrame.model_validate(data))
            else:
                await self._on_heartbeat(WorkerHeartbeatFrame.model_validate(data))
        except pydantic.ValidationError:
            self._close(PROTOCOL_ERROR)

    async def _on_hello(self, hello: WorkerHelloFrame) -> None:
        try:
            async with self.context.database.write() as connection:
                ready, events = await worker_channel.open_worker_channel(connection, self.pool_name, hello.payload)
        except ValidationFailed:
            self._close(UNSUPPORTED_VERSION)
            return
        except (ObjectNotFound, Forbidden):
            self._close(AUTHORIZATION_FAILED)
            return
        except pydantic.ValidationError:  # a pool name or template the pool could not be created with
            self._close(PROTOCOL_ERROR)
            return
        except Exception:
            logger.exception("Opening the worker channel of pool %r failed.", self.pool_name)
            self._close(TRANSIENT_SERVER_ERROR)
            return
        await self.context.evaluate_triggers(events)
        self._hello = hello
        self._pool_updated = ready["payload"]["initial_snapshot"]["work_pool"]["updated"]
        await self.write_message(dumps(ready).decode())

    async def _on_heartbeat(self, heartbeat: WorkerHeartbeatFrame) -> None:
        assert self._hello is not None
        hello = self._hello.payload
        if (heartbeat.payload.consumer_id, heartbeat.payload.worker_name) != (hello.consumer_id, hello.worker_name):
            self._close(PROTOCOL_ERROR)
            return
        try:
            async with self.context.database.write() as connection:
                updated, events = await worker_channel.record_channel_heartbeat(
                    connection, self.pool_name, hello.worker_name, heartbeat.payload.heartbeat_interval_seconds
                )
                snapshot = None
                if updated != self._pool_updated:
                    snapshot = await worker_channel.pool_snapshot(
                        connection,
                        self.pool_name,
                        sequence=self._snapshot_sequence + 1,
                        reason="heartbeat_reconciliation",
                    )
        except Exception:
            logger.warning("A worker channel heartbeat for pool %r was not stored.", self.pool_name, exc_info=True)
            self._close(HEARTBEAT_PERSISTENCE_FAILED)
            return
        await self.context.evaluate_triggers(events)
        if snapshot is not None:
            self._snapshot_sequence += 1
            self._pool_updated = snapshot["work_pool"]["updated"]
            await self.write_message(dumps(worker_channel.frame("work_pool.snapshot.v1", snapshot)).decode())

    def _close(self, how: tuple[int, str]) -> None:
        self.refuse(*how)


routes = [
    (r"/work_pools/(?P<name>[^/]+)/workers/connect/?", WorkerChannelSocket),
]

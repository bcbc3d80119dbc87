"""The worker channel's data: opening it for a worker (its pool, queues and first heartbeat, the `worker.ready.v1`
frame) and the snapshots of the pool it sends. The conversation itself is `server/api/worker_channel.py`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import Forbidden, ObjectNotFound, ValidationFailed
from baton.server.database.types import utcnow
from baton.server.models.events.status_events import Event
from baton.server.models.work_pools import work_pools, work_queues, workers
from baton.server.schemas.work_pools import WorkPoolCreate, WorkPoolUpdate
from baton.server.schemas.worker_channel import CHANNEL_VERSION, REQUIRED_CAPABILITIES, WorkerHelloPayload

Row = dict[str, Any]


def frame(kind: str, payload: Row) -> Row:
    """A server frame of the channel: its type, a fresh id, the time it is sent and its payload."""
    return {"type": kind, "id": str(uuid.uuid4()), "sent_at": utcnow().isoformat(), "payload": payload}


async def open_worker_channel(
    connection: AsyncConnection, pool_name: str, hello: WorkerHelloPayload
) -> tuple[Row, list[Event]]:
    """The `worker.ready.v1` frame answering `hello`, after what Prefect's server does first: the pool created when
    missing and asked for, its base job template set when empty, the worker's heartbeat recorded; with the status
    events those wrote. Raises
    ValidationFailed for an unsupported channel version, ObjectNotFound for a missing pool or queue, Forbidden for
    a pool the worker may not create."""
    if CHANNEL_VERSION not in hello.supported_channel_versions:
        raise ValidationFailed("No mutually supported worker channel version.")
    pool = await work_pools.read_work_pool_by_name(connection, pool_name, for_update=True)
    if pool is None:
        if not hello.create_pool_if_not_found:
            raise ObjectNotFound("work_pool_not_found")
        if pool_name.lower().startswith("prefect"):
            raise Forbidden("work_pool_creation_unauthorized")
        create = WorkPoolCreate(
            name=pool_name, type=hello.worker_type, base_job_template=hello.default_base_job_template
        )
        pool, events = await work_pools.create_work_pool(connection, create)
    else:
        events = []
        if not pool["base_job_template"] and hello.default_base_job_template:
            events += await work_pools.update_work_pool(
                connection, pool, WorkPoolUpdate(base_job_template=hello.default_base_job_template)
            )
    queues = await _resolved_queues(connection, pool, hello.work_queue_names)
    _, ready = await workers.record_heartbeat(connection, pool, hello.worker_name, hello.heartbeat_interval_seconds)
    events += ready
    snapshot = await pool_snapshot(connection, pool_name, sequence=1, reason="initial")
    assert snapshot is not None
    ready_frame = frame(
        "worker.ready.v1",
        {
            "consumer_id": str(hello.consumer_id),
            "worker_id": None,
            "selected_channel_version": CHANNEL_VERSION,
            "effective_heartbeat_interval_seconds": hello.heartbeat_interval_seconds,
            "accepted_capabilities": list(REQUIRED_CAPABILITIES),
            "rejected_capabilities": [
                name for name in dict.fromkeys(hello.requested_capabilities) if name not in REQUIRED_CAPABILITIES
            ],
            "effective_max_cleanup_concurrency": 0,
            "resolved_work_queues": [{"id": str(queue["id"]), "name": queue["name"]} for queue in queues],
            "initial_snapshot": snapshot,
        },
    )
    return ready_frame, events


async def _resolved_queues(connection: AsyncConnection, pool: Row, names: list[str]) -> list[Row]:
    if not names:
        return await work_queues.read_work_queues_of_pool(connection, pool["id"])
    queues = []
    for name in dict.fromkeys(names):
        queue = await work_queues.read_work_queue_by_name(connection, pool["id"], name)
        if queue is None:
            raise ObjectNotFound("work_queue_not_found")
        queues.append(queue)
    return queues


async def record_channel_heartbeat(
    connection: AsyncConnection, pool_name: str, worker_name: str, interval: int
) -> tuple[Any, list[Event]]:
    """Record a heartbeat that came over the channel; the pool's `updated` time (a change means a new snapshot is
    due) and the status events written. Raises ObjectNotFound when the pool is gone."""
    pool = await work_pools.read_work_pool_by_name(connection, pool_name)
    if pool is None:
        raise ObjectNotFound("Worker channel work pool no longer exists")
    _, events = await workers.record_heartbeat(connection, pool, worker_name, interval)
    return pool["updated"], events


async def pool_snapshot(connection: AsyncConnection, pool_name: str, *, sequence: int, reason: str) -> Row | None:
    """A `WorkPoolSnapshotPayload` of the pool as the API returns it; None when the pool is gone."""
    pool = await work_pools.read_work_pool_by_name(connection, pool_name)
    if pool is None:
        return None
    (body,) = await work_pools.pool_responses(connection, [pool])
    return {"snapshot_sequence": sequence, "reason": reason, "work_pool": body}

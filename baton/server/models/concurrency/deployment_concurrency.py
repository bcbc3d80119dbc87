"""Deployment concurrency in the database: the slot a deployment run takes when it becomes PENDING, held by a lease
(renewed when it starts RUNNING, released when it leaves PENDING, RUNNING and CANCELLING for any other state).

The slot is one of the deployment's global limit (`deployment:<id>`, or the global limit it was linked to); the
lease's id travels in the run's state details as `deployment_concurrency_lease_id`, as Prefect's client expects, and
the lease's holder is the flow run. A lease that is not renewed expires and the sweep gives its slot back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.concurrency import concurrency_leases, concurrency_limits
from baton.server.orchestration.context import DeploymentConcurrency
from baton.states import AWAITING_CONCURRENCY_SLOT, StateType

# How long a slot is held before the runner must renew it, when the deployment names no grace period (Prefect's
# PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION).
INITIAL_LEASE_SECONDS = 300.0
# While a run is in one of these states it holds its deployment slot.
SLOT_HOLDING_STATES = frozenset({StateType.PENDING.value, StateType.RUNNING.value, StateType.CANCELLING.value})


async def read_deployment_concurrency(
    connection: AsyncConnection, deployment_id: uuid.UUID
) -> DeploymentConcurrency | None:
    """The deployment's active concurrency limit; None when it has none (or the deployment is gone)."""
    limit = t.concurrency_limit_v2
    query = (
        sa.select(t.deployment.c.concurrency_options, limit.c.id, limit.c.limit)
        .join(limit, limit.c.id == t.deployment.c.concurrency_limit_id)
        .where(t.deployment.c.id == deployment_id, limit.c.active.is_(True))
    )
    row = (await connection.execute(query)).first()
    if row is None:
        return None
    options: dict[str, Any] = row.concurrency_options or {}
    return DeploymentConcurrency(
        limit_id=row.id,
        limit=row.limit,
        collision_strategy="CANCEL_NEW" if options.get("collision_strategy") == "CANCEL_NEW" else "ENQUEUE",
        lease_seconds=float(options.get("grace_period_seconds") or INITIAL_LEASE_SECONDS),
    )


async def take_deployment_slot(
    connection: AsyncConnection, concurrency: DeploymentConcurrency, flow_run_id: uuid.UUID
) -> uuid.UUID | None:
    """Take one slot of the limit for the run, under the limit's row lock; the lease id, or None when it is full."""
    row = await concurrency_limits.read_concurrency_limit(connection, concurrency.limit_id)
    if row is None:
        return None
    request = await concurrency_limits.take_slots(connection, [row["name"]], 1, "concurrency")
    if not request.acquired:
        return None
    holder = {"type": "flow_run", "id": flow_run_id}
    return await concurrency_leases.create_lease(connection, request.taken_on, 1, concurrency.lease_seconds, holder)


async def renew_deployment_slot(
    connection: AsyncConnection, lease_id: uuid.UUID, concurrency: DeploymentConcurrency | None
) -> bool:
    """Extend the run's lease as it starts running; False when the lease is gone (it expired unrenewed)."""
    seconds = concurrency.lease_seconds if concurrency is not None else INITIAL_LEASE_SECONDS
    return await concurrency_leases.renew_lease(connection, lease_id, seconds)


async def release_deployment_slot(
    connection: AsyncConnection, lease_id: uuid.UUID, deployment_id: uuid.UUID | None, now: dt.datetime
) -> None:
    """Give the run's slot back (nothing when the lease was already released or expired), and move the deployment's
    longest-waiting AwaitingConcurrencySlot run forward to now, so a worker's next poll takes it instead of it
    sitting out the rest of its wait."""
    await concurrency_leases.release_lease(connection, lease_id)
    if deployment_id is None:
        return
    run = t.flow_run
    waiting = (
        sa.select(run.c.id)
        .where(
            run.c.deployment_id == deployment_id,
            run.c.state_type == StateType.SCHEDULED.value,
            run.c.state_name == AWAITING_CONCURRENCY_SLOT,
            run.c.next_scheduled_start_time > now,
        )
        .order_by(run.c.expected_start_time, run.c.id)
        .limit(1)
        .scalar_subquery()
    )
    await connection.execute(sa.update(run).where(run.c.id == waiting).values(next_scheduled_start_time=now))

"""Data access for concurrency leases: the slots a holder took, until it releases them or the lease expires.

A lease row records its holder, its slot count and when it expires; `concurrency_lease_limit` links it to each limit
it took slots on. Releasing a lease (on request, when its holder finishes, or when it expired unrenewed) deletes the
row and gives its slots back, in one transaction. The lease rows are locked before the limit rows everywhere, and
the limit rows in id order, so that concurrent releases and acquisitions on PostgreSQL never deadlock.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.concurrency import concurrency_limits as limits
from baton.server.schemas.concurrency import SlotMode

logger = logging.getLogger("baton.concurrency")

# How many expired leases one sweep transaction releases; more wait for the next transaction of the same sweep.
EXPIRY_BATCH_SIZE = 200

Row = dict[str, Any]
lease_table = t.concurrency_lease
link_table = t.concurrency_lease_limit


async def create_lease(
    connection: AsyncConnection,
    limit_ids: list[uuid.UUID],
    slots: int,
    duration_seconds: float,
    holder: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> uuid.UUID:
    """Record a lease on `slots` of each limit in `limit_ids` (already taken by the caller); returns its id."""
    now = now or utcnow()
    lease_id = uuid.uuid4()
    await connection.execute(
        lease_table.insert().values(
            id=lease_id,
            created=now,
            updated=now,
            expires_at=now + dt.timedelta(seconds=duration_seconds),
            slots=slots,
            holder_type=holder["type"] if holder else None,
            holder_id=holder["id"] if holder else None,
        )
    )
    if limit_ids:
        await connection.execute(
            link_table.insert(),
            [
                {"id": uuid.uuid4(), "created": now, "updated": now, "lease_id": lease_id, "limit_id": limit_id}
                for limit_id in limit_ids
            ],
        )
    return lease_id


async def take_slots_with_lease(
    connection: AsyncConnection,
    names: list[str],
    slots: int,
    mode: SlotMode,
    duration_seconds: float,
    holder: dict[str, Any] | None = None,
) -> tuple[limits.SlotRequest, uuid.UUID]:
    """Take `slots` on the limits named (see `take_slots`) and, when taken, record a lease on them.

    Returns the request's outcome and the lease id. When no limit has any of the names, nothing is written and the
    lease id is a fresh one that names no lease (Prefect's client then never renews or releases it).
    """
    now = utcnow()
    request = await limits.take_slots(connection, names, slots, mode, now)
    if not request.acquired or not request.limits:
        return request, uuid.uuid4()
    return request, await create_lease(connection, request.taken_on, slots, duration_seconds, holder, now)


async def renew_lease(
    connection: AsyncConnection, lease_id: uuid.UUID, duration_seconds: float, now: dt.datetime | None = None
) -> bool:
    """Extend the lease to expire `duration_seconds` from now; False when it is unknown, released or expired."""
    now = now or utcnow()
    result = await connection.execute(
        sa.update(lease_table)
        .where(lease_table.c.id == lease_id, lease_table.c.expires_at > now)
        .values(expires_at=now + dt.timedelta(seconds=duration_seconds), updated=now)
    )
    return result.rowcount == 1


async def release_lease(connection: AsyncConnection, lease_id: uuid.UUID, now: dt.datetime | None = None) -> bool:
    """Delete the lease and give its slots back; False when there is no such lease (already released or expired)."""
    return await _release(connection, lease_table.c.id == lease_id, now=now, record_occupancy=True) == 1


async def release_leases_of_holder(
    connection: AsyncConnection, holder_id: uuid.UUID, now: dt.datetime | None = None
) -> int:
    """Release every lease held by the run (or deployment) `holder_id`, e.g. when it reached a terminal state;
    returns how many there were."""
    return await _release(connection, lease_table.c.holder_id == holder_id, now=now)


async def release_leases_of_holders(
    connection: AsyncConnection, holder_ids: list[uuid.UUID], now: dt.datetime | None = None
) -> int:
    """Release every lease held by any of `holder_ids` (runs that reached a terminal state); how many there were."""
    if not holder_ids:
        return 0
    return await _release(connection, lease_table.c.holder_id.in_(holder_ids), now=now)


async def release_leases_of_limit(
    connection: AsyncConnection, limit_id: uuid.UUID, *, holder_id: uuid.UUID | None = None
) -> int:
    """Release every lease that holds slots of the limit (only those of `holder_id`, when given); returns how many."""
    on_limit = lease_table.c.id.in_(sa.select(link_table.c.lease_id).where(link_table.c.limit_id == limit_id))
    condition = on_limit if holder_id is None else sa.and_(on_limit, lease_table.c.holder_id == holder_id)
    return await _release(connection, condition)


async def expire_leases(connection: AsyncConnection, now: dt.datetime, batch: int = EXPIRY_BATCH_SIZE) -> int:
    """Release up to `batch` leases that expired before `now` (oldest first); returns how many it released.

    On PostgreSQL, leases another transaction is releasing are skipped (SKIP LOCKED), so parallel sweeps share work.
    """
    return await _release(connection, lease_table.c.expires_at <= now, now=now, batch=batch, skip_locked=True)


async def revoke_expired_leases(database: Any, now: dt.datetime | None = None, batch: int = EXPIRY_BATCH_SIZE) -> int:
    """The periodic sweep: release every lease that expired unrenewed, in transactions of `batch` leases; returns
    how many it released. Safe to run in several processes at once."""
    async with database.read() as connection:
        if not await _any_expired(connection, now or utcnow()):
            return 0  # the common case takes no write transaction (a sweep runs in every workspace every few seconds)
    total = 0
    while True:
        async with database.write() as connection:
            released = await expire_leases(connection, now or utcnow(), batch)
        total += released
        if released < batch:
            break
    if total:
        logger.info("Released %d expired concurrency lease(s).", total)
    return total


async def read_next_lease_expiry(connection: AsyncConnection) -> dt.datetime | None:
    """When the first of the leases expires unless renewed (None: there are no leases)."""
    return (await connection.execute(sa.select(sa.func.min(lease_table.c.expires_at)))).scalar()


async def _any_expired(connection: AsyncConnection, now: dt.datetime) -> bool:
    query = sa.select(lease_table.c.id).where(lease_table.c.expires_at <= now).limit(1)
    return (await connection.execute(query)).first() is not None


async def read_limit_holders(connection: AsyncConnection, limit_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
    """Per limit id, the leases holding its slots, oldest first: {type, id, lease_id, slots, expires_at}.

    A lease that expired but was not swept yet is listed: its slots are still taken.
    """
    holders: dict[uuid.UUID, list[Row]] = {limit_id: [] for limit_id in limit_ids}
    if not limit_ids:
        return holders
    query = (
        sa.select(
            link_table.c.limit_id,
            lease_table.c.holder_type,
            lease_table.c.holder_id,
            lease_table.c.id,
            lease_table.c.slots,
            lease_table.c.expires_at,
        )
        .join(lease_table, lease_table.c.id == link_table.c.lease_id)
        .where(link_table.c.limit_id.in_(limit_ids))
        .order_by(lease_table.c.created, lease_table.c.id)
    )
    for row in (await connection.execute(query)).mappings():
        holders[row["limit_id"]].append(
            {
                "type": row["holder_type"],
                "id": row["holder_id"],
                "lease_id": row["id"],
                "slots": row["slots"],
                "expires_at": row["expires_at"],
            }
        )
    return holders


async def _release(
    connection: AsyncConnection,
    condition: sa.ColumnElement[bool],
    *,
    now: dt.datetime | None = None,
    batch: int | None = None,
    skip_locked: bool = False,
    record_occupancy: bool = False,
) -> int:
    """Delete the leases matching `condition` and give their slots back; returns how many leases it deleted."""
    now = now or utcnow()
    # Lock the leases first (a concurrent release of the same lease waits here, then finds it gone); their links
    # come in the same query, since deleting a lease deletes them.
    if batch is not None:
        oldest = sa.select(lease_table.c.id).where(condition).order_by(lease_table.c.expires_at).limit(batch)
        condition = lease_table.c.id.in_(oldest.scalar_subquery())
    query = (
        sa.select(lease_table.c.id, lease_table.c.slots, lease_table.c.created, link_table.c.limit_id)
        .outerjoin(link_table, link_table.c.lease_id == lease_table.c.id)
        .where(condition)
        .with_for_update(of=lease_table, skip_locked=skip_locked)
    )
    rows = (await connection.execute(query)).all()
    if not rows:
        return 0
    leases = list({row.id: row for row in rows}.values())
    lease_ids = [lease.id for lease in leases]
    links = [row for row in rows if row.limit_id is not None]
    await connection.execute(sa.delete(lease_table).where(lease_table.c.id.in_(lease_ids)))
    if not links:
        return len(leases)
    slots: dict[uuid.UUID, int] = defaultdict(int)
    for link in links:
        slots[link.limit_id] += link.slots
    # A lease released by its holder tells the limits how long its slots were held (as Prefect's
    # decrement-with-lease does); an expired or revoked one says nothing about how long work takes.
    occupancy = (now - leases[0].created).total_seconds() if record_occupancy and len(leases) == 1 else None
    await limits.return_slots(connection, limits.ids_condition(list(slots)), dict(slots), occupancy, now)
    return len(leases)

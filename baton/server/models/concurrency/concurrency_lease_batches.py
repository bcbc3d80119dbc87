"""Take and release many concurrency leases in one write transaction, with the outcome of each as if made alone.

`LeaseBatcher` (baton/server/lease_batcher.py) gathers the acquisitions and releases that arrive while a transaction
is in flight and hands them here together, so that a burst of N requests costs one transaction of a few statements
instead of N transactions of four or five each. Within the transaction, the releases' leases are locked and deleted
first, then every limit involved is locked once (in id order, after the leases, as everywhere else), and the
decisions are made in Python, one request after the other, on counts that already include the earlier requests of
the batch: the same rules as `take_slots` and `return_slots`, under the same locks, so a limit of N never has more
than N slots taken. The writes follow: the new leases and their links, then one UPDATE per limit that changed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.concurrency import concurrency_limits as limits
from baton.server.models.concurrency.concurrency_limits import SlotRequest
from baton.server.schemas.concurrency import SlotMode

Row = dict[str, Any]
lease_table = t.concurrency_lease
link_table = t.concurrency_lease_limit
limit_table = t.concurrency_limit_v2


@dataclass(frozen=True)
class LeaseAcquisition:
    """One request for `slots` on every active limit of `names`, under a lease of `duration_seconds`."""

    names: Sequence[str]
    slots: int
    mode: SlotMode
    duration_seconds: float
    holder: dict[str, Any] | None = None


@dataclass(frozen=True)
class LeaseGrant:
    """The outcome of one acquisition: the request (acquired or refused, with Retry-After) and the lease id, which
    names no lease when nothing was taken (a refusal, or no limit with any of the names)."""

    request: SlotRequest
    lease_id: uuid.UUID


@dataclass
class LeaseBatchResult:
    """Per acquisition, in order, its grant or the ValidationFailed it raised alone; per release, whether the lease
    existed (False: already released or expired and swept)."""

    grants: list[LeaseGrant | ValidationFailed]
    released: list[bool]


async def apply_lease_batch(
    connection: AsyncConnection,
    acquisitions: Sequence[LeaseAcquisition],
    releases: Sequence[uuid.UUID],
    now: dt.datetime | None = None,
) -> LeaseBatchResult:
    """Release the leases `releases`, then make each acquisition in order, all in the caller's transaction.

    An acquisition that is invalid on its own (more slots than a limit, or a rate limit without decay) gets its
    ValidationFailed in the result and changes nothing; the others are unaffected by it.
    """
    now = now or utcnow()
    freed = await _delete_leases(connection, releases)
    limit_ids = {limit_id for lease in freed.values() for limit_id in lease["limit_ids"]}
    names = {name for acquisition in acquisitions for name in acquisition.names}
    rows: dict[uuid.UUID, Row] = {}
    if limit_ids or names:
        condition = sa.or_(limit_table.c.id.in_(limit_ids), limit_table.c.name.in_(names))
        rows = {row["id"]: row for row in await limits.lock_limits(connection, condition)}
    changed: set[uuid.UUID] = set()

    released: list[bool] = []
    for lease_id in releases:
        lease = freed.pop(lease_id, None)  # a lease named twice is released once
        released.append(lease is not None)
        if lease is None:
            continue
        occupancy = (now - lease["created"]).total_seconds()
        for limit_id in lease["limit_ids"]:
            row = rows.get(limit_id)
            if row is None or not row["active"] or lease["slots"] <= 0:
                continue
            row.update(limits.returned_slots(row, lease["slots"], occupancy, now))
            changed.add(limit_id)

    by_name = {row["name"]: row for row in rows.values()}
    grants: list[LeaseGrant | ValidationFailed] = []
    new_leases: list[Row] = []
    new_links: list[Row] = []
    for acquisition in acquisitions:
        named = sorted((by_name[name] for name in set(acquisition.names) if name in by_name), key=lambda r: r["id"])
        try:
            request, counts = limits.decide_slots(named, acquisition.slots, acquisition.mode, now)
        except ValidationFailed as exc:
            grants.append(exc)
            continue
        for limit_id, count in counts.items():
            rows[limit_id].update(active_slots=count.active, denied_slots=count.denied, updated=count.clock)
            changed.add(limit_id)
        # Snapshot the rows named: later requests of the batch change the ledger, not this answer.
        request.limits = [dict(row) for row in request.limits]
        lease_id = uuid.uuid4()
        if request.acquired and request.limits:
            new_leases.append(_lease_values(lease_id, acquisition, now))
            new_links += [
                {"id": uuid.uuid4(), "created": now, "updated": now, "lease_id": lease_id, "limit_id": limit_id}
                for limit_id in request.taken_on
            ]
        grants.append(LeaseGrant(request, lease_id))

    if new_leases:
        await connection.execute(lease_table.insert(), new_leases)
    if new_links:
        await connection.execute(link_table.insert(), new_links)
    if changed:
        await limits.store_slot_counts(connection, [rows[limit_id] for limit_id in sorted(changed)])
    return LeaseBatchResult(grants, released)


async def _delete_leases(connection: AsyncConnection, lease_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Row]:
    """Lock and delete the leases that exist among `lease_ids` (their links go with them); per lease deleted, its
    slots, when it was created and the limits it held."""
    if not lease_ids:
        return {}
    # Locking the leases first, as `_release` does, keeps one lock order (lease, then limits) everywhere; a
    # concurrent release of the same lease waits here, then finds it gone.
    query = (
        sa.select(lease_table.c.id, lease_table.c.slots, lease_table.c.created, link_table.c.limit_id)
        .outerjoin(link_table, link_table.c.lease_id == lease_table.c.id)
        .where(lease_table.c.id.in_(set(lease_ids)))
        .with_for_update(of=lease_table)
    )
    found: dict[uuid.UUID, Row] = {}
    for row in (await connection.execute(query)).all():
        lease = found.setdefault(row.id, {"slots": row.slots, "created": row.created, "limit_ids": []})
        if row.limit_id is not None:
            lease["limit_ids"].append(row.limit_id)
    if found:
        await connection.execute(sa.delete(lease_table).where(lease_table.c.id.in_(list(found))))
    return found


def _lease_values(lease_id: uuid.UUID, acquisition: LeaseAcquisition, now: dt.datetime) -> Row:
    holder = acquisition.holder
    return {
        "id": lease_id,
        "created": now,
        "updated": now,
        "expires_at": now + dt.timedelta(seconds=acquisition.duration_seconds),
        "slots": acquisition.slots,
        "holder_type": holder["type"] if holder else None,
        "holder_id": holder["id"] if holder else None,
    }

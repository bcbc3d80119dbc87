"""Tag (v1) concurrency limits, as Prefect 3 keeps them: a view of the global limits named `tag:<tag>`.

The slots a task run takes through the v1 endpoints are leases held by that task run, with a lease long enough never
to expire (v1 clients cannot renew); they are released by the v1 decrement, a reset, or `release_leases_of_holder`
when the run finishes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ConcurrencyLimitReached
from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.concurrency import concurrency_leases as leases
from baton.server.models.concurrency import concurrency_limits as limits
from baton.server.models.concurrency.concurrency_limits import TAG_PREFIX, TAG_SLOT_WAIT_SECONDS
from baton.server.schemas.concurrency import ConcurrencyLimitV2Create, ConcurrencyLimitV2Update

# v1 clients cannot renew a lease, so theirs last a century (as Prefect's do).
V1_LEASE_SECONDS = 100 * 365 * 24 * 60 * 60

Row = dict[str, Any]


def tag_limit_name(tag: str) -> str:
    return f"{TAG_PREFIX}{tag}"


async def upsert_tag_limit(connection: AsyncConnection, tag: str, concurrency_limit: int) -> tuple[Row, bool]:
    """Create the limit of `tag`, or set the size of the existing one; returns its row and whether it was created."""
    name = tag_limit_name(tag)
    row = await limits.read_concurrency_limit(connection, name)
    if row is None:
        create = ConcurrencyLimitV2Create.model_construct(
            active=True, name=name, limit=concurrency_limit, active_slots=0, denied_slots=0, slot_decay_per_second=0.0
        )
        return await limits.create_concurrency_limit(connection, create), True
    await limits.update_concurrency_limit(
        connection, row["id"], ConcurrencyLimitV2Update.model_validate({"limit": concurrency_limit})
    )
    return {**row, "limit": concurrency_limit, "updated": utcnow()}, False


async def read_tag_limit(connection: AsyncConnection, id_or_tag: uuid.UUID | str) -> Row | None:
    """The v1 view of the tag limit with that id (a UUID) or of that tag (a string); None if there is none."""
    row = await limits.read_concurrency_limit(
        connection, id_or_tag if isinstance(id_or_tag, uuid.UUID) else tag_limit_name(id_or_tag)
    )
    if row is None or not row["name"].startswith(TAG_PREFIX):
        return None
    return (await _as_v1(connection, [row]))[0]


async def read_tag_limits(connection: AsyncConnection, limit: int, offset: int) -> list[Row]:
    """A page of tag limits in the v1 view, sorted by tag."""
    rows = await limits.read_concurrency_limits(connection, limit, offset, name_prefix=TAG_PREFIX)
    return await _as_v1(connection, rows)


async def reset_tag_limit(connection: AsyncConnection, tag: str, slot_override: list[uuid.UUID] | None) -> bool:
    """Release every lease on the tag's limit and zero its slots, then give one slot to each task run in
    `slot_override`; False when the tag has no limit."""
    row = await limits.read_concurrency_limit(connection, tag_limit_name(tag))
    if row is None:
        return False
    await leases.release_leases_of_limit(connection, row["id"])
    now = utcnow()
    holders = list(dict.fromkeys(slot_override or []))
    for task_run_id in holders:
        await leases.create_lease(
            connection, [row["id"]], 1, V1_LEASE_SECONDS, {"type": "task_run", "id": task_run_id}, now
        )
    table = t.concurrency_limit_v2
    await connection.execute(
        sa.update(table).where(table.c.id == row["id"]).values(active_slots=len(holders), denied_slots=0, updated=now)
    )
    return True


async def delete_tag_limit(connection: AsyncConnection, id_or_tag: uuid.UUID | str) -> bool:
    """Release the leases on the tag limit and delete it; False when there is no such tag limit."""
    row = await read_tag_limit(connection, id_or_tag)
    if row is None:
        return False
    await leases.release_leases_of_limit(connection, row["id"])
    return await limits.delete_concurrency_limit(connection, row["id"])


async def take_tag_slots(connection: AsyncConnection, tags: Sequence[str], task_run_id: uuid.UUID) -> list[Row]:
    """Take one slot of each tag's limit for the task run, under a lease it holds; returns [{id, name, limit}] with
    the tags as names. Raises ConcurrencyLimitReached when a limit is zero (without a retry time) or full."""
    names = [tag_limit_name(tag) for tag in tags]
    for row in await limits.lock_limits(connection, limits.names_condition(names)):
        if row["limit"] == 0:
            tag = row["name"].removeprefix(TAG_PREFIX)
            raise ConcurrencyLimitReached(
                f'The concurrency limit on tag "{tag}" is 0 and will deadlock if the task tries to run again.', None
            )
    request = await limits.take_slots(connection, names, 1, "concurrency")
    if not request.acquired:
        full = ", ".join(sorted(row["name"].removeprefix(TAG_PREFIX) for row in request.limits if row["active"]))
        raise ConcurrencyLimitReached(f"Concurrency limit for the {full} tag has been reached", TAG_SLOT_WAIT_SECONDS)
    if request.taken_on:
        await leases.create_lease(
            connection, request.taken_on, 1, V1_LEASE_SECONDS, {"type": "task_run", "id": task_run_id}
        )
    taken = set(request.taken_on)
    return [_minimal(row) for row in request.limits if row["id"] in taken]


async def return_tag_slots(connection: AsyncConnection, tags: Sequence[str], task_run_id: uuid.UUID) -> list[Row]:
    """Release the task run's leases on the tags' limits; returns [{id, name, limit}] of those limits (tags as
    names)."""
    rows = await _read_by_names(connection, [tag_limit_name(tag) for tag in tags])
    for row in rows:
        await leases.release_leases_of_limit(connection, row["id"], holder_id=task_run_id)
    return [_minimal(row) for row in rows]


async def _read_by_names(connection: AsyncConnection, names: list[str]) -> list[Row]:
    table = t.concurrency_limit_v2
    query = sa.select(table).where(table.c.name.in_(names)).order_by(table.c.name)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


def _minimal(row: Row) -> Row:
    return {"id": row["id"], "name": row["name"].removeprefix(TAG_PREFIX), "limit": row["limit"]}


async def _as_v1(connection: AsyncConnection, rows: list[Row]) -> list[Row]:
    holders = await leases.read_limit_holders(connection, [row["id"] for row in rows])
    return [
        {
            "id": row["id"],
            "created": row["created"],
            "updated": row["updated"],
            "tag": row["name"].removeprefix(TAG_PREFIX),
            "concurrency_limit": row["limit"],
            "active_slots": [holder["id"] for holder in holders[row["id"]] if holder["type"] == "task_run"],
        }
        for row in rows
    ]

"""Many lease acquisitions and releases in one transaction: each decided as if alone, in order, never over the limit."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from baton.errors import ServiceUnavailable, ValidationFailed
from baton.server import lease_batcher as lease_batches_api
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.lease_batcher import LeaseBatcher
from baton.server.models.concurrency import concurrency_limits as limits
from baton.server.models.concurrency.concurrency_lease_batches import LeaseAcquisition, LeaseGrant, apply_lease_batch
from baton.server.schemas.concurrency import ConcurrencyLimitV2Create


async def create_limits(database: Database, **sizes: int) -> None:
    async with database.write() as connection:
        for name, size in sizes.items():
            await limits.create_concurrency_limit(
                connection, ConcurrencyLimitV2Create.model_validate({"name": name, "limit": size})
            )


async def stored(database: Database, name: str) -> tuple[int, int, int]:
    """The limit's active and denied slots as stored, and how many leases hold it."""
    limit_table, link_table = t.concurrency_limit_v2, t.concurrency_lease_limit
    async with database.read() as connection:
        row = (await connection.execute(sa.select(limit_table).where(limit_table.c.name == name))).mappings().one()
        links = await connection.scalar(
            sa.select(sa.func.count()).select_from(link_table).where(link_table.c.limit_id == row["id"])
        )
    return row["active_slots"], row["denied_slots"], int(links or 0)


def one(names: list[str], slots: int = 1) -> LeaseAcquisition:
    return LeaseAcquisition(names, slots, "concurrency", 60.0, {"type": "flow_run", "id": uuid.uuid4()})


async def test_a_batch_never_takes_more_than_the_limit(database: Database) -> None:
    await create_limits(database, pair=2, wide=5)
    async with database.write() as connection:
        result = await apply_lease_batch(connection, [one(["pair", "wide"]) for _ in range(4)], [])
    grants = [grant for grant in result.grants if isinstance(grant, LeaseGrant)]
    assert [grant.request.acquired for grant in grants] == [True, True, False, False]
    # The refusals are recorded as denied slots, all or none: "wide" gave nothing to the refused requests.
    assert await stored(database, "pair") == (2, 2, 2)
    assert await stored(database, "wide") == (2, 2, 2)
    assert grants[2].request.retry_after_seconds > 0
    assert {row["name"] for row in grants[0].request.limits} == {"pair", "wide"}

    # Releases come first in a batch, so the slot one frees goes to an acquisition of the same batch.
    held = grants[0].lease_id
    async with database.write() as connection:
        result = await apply_lease_batch(connection, [one(["pair"])], [held, held, uuid.uuid4()])
    assert result.released == [True, False, False]
    [grant] = result.grants
    assert isinstance(grant, LeaseGrant) and grant.request.acquired
    assert (await stored(database, "pair"))[0] == 2
    assert (await stored(database, "wide"))[0] == 1


async def test_an_invalid_acquisition_fails_alone(database: Database) -> None:
    await create_limits(database, small=1)
    async with database.write() as connection:
        result = await apply_lease_batch(
            connection,
            [
                one(["small"], slots=2),
                LeaseAcquisition(["small"], 1, "rate_limit", 60.0),
                one(["small"]),
                one(["no-such-limit"]),
            ],
            [],
        )
    too_many, no_decay, taken, nothing = result.grants
    assert isinstance(too_many, ValidationFailed) and "greater than the limit" in str(too_many)
    assert isinstance(no_decay, ValidationFailed) and "slot decay" in str(no_decay)
    assert isinstance(taken, LeaseGrant) and taken.request.acquired
    # No limit has the name: acquired, with no limits and a lease id that names no lease.
    assert isinstance(nothing, LeaseGrant) and nothing.request.acquired and nothing.request.limits == []
    assert await stored(database, "small") == (1, 0, 1)


async def test_concurrent_callers_share_transactions_and_stay_within_the_limit(database: Database) -> None:
    await create_limits(database, shared=3)
    batcher = LeaseBatcher(database)

    async def acquire() -> LeaseGrant:
        return await batcher.acquire(one(["shared"]))

    grants = await asyncio.gather(*(acquire() for _ in range(10)))
    taken = [grant.lease_id for grant in grants if grant.request.acquired]
    assert len(taken) == 3
    assert await stored(database, "shared") == (3, 7, 3)

    released = await asyncio.gather(*(batcher.release(lease_id) for lease_id in [*taken, taken[0]]))
    assert sorted(released) == [False, True, True, True]
    assert (await stored(database, "shared"))[::2] == (0, 0)


async def test_a_failed_transaction_answers_every_caller_and_the_next_batch_works(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_limits(database, flaky=2)
    batcher = LeaseBatcher(database)

    async def busy(*_args: object, **_kwargs: object) -> None:
        raise ServiceUnavailable("The database is busy or unreachable; retry shortly.", 1)

    monkeypatch.setattr(lease_batches_api, "apply_lease_batch", busy)
    outcomes = await asyncio.gather(
        batcher.acquire(one(["flaky"])), batcher.release(uuid.uuid4()), return_exceptions=True
    )
    assert [type(outcome) for outcome in outcomes] == [ServiceUnavailable, ServiceUnavailable]
    assert await stored(database, "flaky") == (0, 0, 0)

    monkeypatch.undo()
    grant = await batcher.acquire(one(["flaky"]))
    assert grant.request.acquired and await stored(database, "flaky") == (1, 0, 1)

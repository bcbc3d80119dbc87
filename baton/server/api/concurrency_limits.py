"""`/v2/concurrency_limits`: global limits by id or name, taking and returning slots, and leases on slots."""

from __future__ import annotations

import uuid
from typing import Any

from baton.errors import ConcurrencyLimitReached, LeaseExpired, ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.concurrency import concurrency_leases as leases
from baton.server.models.concurrency import concurrency_limits as limits
from baton.server.models.concurrency.concurrency_lease_batches import LeaseAcquisition
from baton.server.models.concurrency.concurrency_limits import SlotRequest
from baton.server.schemas.concurrency import (
    ConcurrencyLimitV2,
    ConcurrencyLimitV2Create,
    ConcurrencyLimitV2Update,
    ConcurrencyLimitWithLease,
    GlobalConcurrencyLimitResponse,
    LeaseRelease,
    LeaseRenewal,
    LimitFilterRequest,
    LimitHolder,
    MinimalConcurrencyLimit,
    SlotDecrement,
    SlotIncrement,
    SlotIncrementWithLease,
)

NOT_FOUND = "Concurrency Limit not found"
READ_FIELDS = (
    "id",
    "created",
    "updated",
    "active",
    "name",
    "limit",
    "active_slots",
    "slot_decay_per_second",
    "denied_slots",
    "avg_slot_occupancy_seconds",
)


def parse_id_or_name(value: str) -> uuid.UUID | str:
    """A path segment that is a limit's id when it parses as a UUID, else its name (as Prefect reads it)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return value


def limit_response(row: dict[str, Any], holders: list[dict[str, Any]]) -> dict[str, Any]:
    """A limit as GET answers it: slot counts after decay, plus the leases holding its slots."""
    decayed = limits.with_decayed_slots(row)
    return {**{key: decayed[key] for key in READ_FIELDS}, "holders": holders}


def minimal(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": row["id"], "name": row["name"], "limit": row["limit"]} for row in rows]


def refuse(request: SlotRequest) -> ConcurrencyLimitReached:
    full = ", ".join(sorted(row["name"] for row in request.limits if row["active"]))
    return ConcurrencyLimitReached(f"No free slot on concurrency limit(s): {full}.", request.retry_after_seconds)


class LimitsHandler(ApiHandler):
    permission = "concurrency_limit:write"

    @endpoint(
        "Create a global concurrency limit", body=ConcurrencyLimitV2Create, response=ConcurrencyLimitV2, status=201
    )
    async def post(self) -> None:
        create = self.parse_body(ConcurrencyLimitV2Create)
        async with self.database.write() as connection:
            row = await limits.create_concurrency_limit(connection, create)
        self.write_json(row, status=201)


class LimitHandler(ApiHandler):
    permission = {
        "GET": "concurrency_limit:read",
        "PATCH": "concurrency_limit:write",
        "DELETE": "concurrency_limit:write",
    }

    @endpoint("Read a global concurrency limit by id or name", response=GlobalConcurrencyLimitResponse)
    async def get(self, id_or_name: str) -> None:
        async with self.database.read() as connection:
            row = await limits.read_concurrency_limit(connection, parse_id_or_name(id_or_name))
            if row is None:
                raise ObjectNotFound(NOT_FOUND)
            holders = await leases.read_limit_holders(connection, [row["id"]])
        self.write_json(limit_response(row, holders[row["id"]]))

    @endpoint("Update a global concurrency limit", body=ConcurrencyLimitV2Update, status=204)
    async def patch(self, id_or_name: str) -> None:
        update = self.parse_body(ConcurrencyLimitV2Update)
        async with self.database.write() as connection:
            found = await limits.update_concurrency_limit(connection, parse_id_or_name(id_or_name), update)
        if not found:
            raise ObjectNotFound(NOT_FOUND)
        self.write_no_content()

    @endpoint("Delete a global concurrency limit (its leases stop holding slots of it)", status=204)
    async def delete(self, id_or_name: str) -> None:
        async with self.database.write() as connection:
            found = await limits.delete_concurrency_limit(connection, parse_id_or_name(id_or_name))
        if not found:
            raise ObjectNotFound(NOT_FOUND)
        self.write_no_content()


class LimitHoldersHandler(ApiHandler):
    permission = "concurrency_limit:read"

    @endpoint("The leases holding slots of a global concurrency limit", response=list[LimitHolder])
    async def get(self, id_or_name: str) -> None:
        async with self.database.read() as connection:
            row = await limits.read_concurrency_limit(connection, parse_id_or_name(id_or_name))
            if row is None:
                raise ObjectNotFound(NOT_FOUND)
            holders = await leases.read_limit_holders(connection, [row["id"]])
        self.write_json(holders[row["id"]])


class LimitFilterHandler(ApiHandler):
    permission = "concurrency_limit:read"

    @endpoint(
        "A page of global concurrency limits, by name",
        body=LimitFilterRequest,
        response=list[GlobalConcurrencyLimitResponse],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(LimitFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            rows = await limits.read_concurrency_limits(connection, self.effective_limit(request.limit), request.offset)
            holders = await leases.read_limit_holders(connection, [row["id"] for row in rows])
        self.write_json([limit_response(row, holders[row["id"]]) for row in rows])


class IncrementHandler(ApiHandler):
    permission = "concurrency_limit:use"

    @endpoint(
        "Take slots on the named limits, all or none (423 with Retry-After when one is full)",
        body=SlotIncrement,
        response=list[MinimalConcurrencyLimit],
        responses={"423": "A limit is full; Retry-After says when to try again"},
    )
    async def post(self) -> None:
        body = self.parse_body(SlotIncrement)
        async with self.database.read() as connection:
            check = await limits.check_slots(connection, body.names, body.slots, body.mode)
        if not check.acquired:
            raise refuse(check)
        async with self.database.write() as connection:
            request = await limits.take_slots(connection, body.names, body.slots, body.mode)
        if not request.acquired:
            raise refuse(request)
        self.write_json(minimal(request.limits))


class DecrementHandler(ApiHandler):
    permission = "concurrency_limit:use"

    @endpoint("Give back slots on the named limits", body=SlotDecrement, response=list[MinimalConcurrencyLimit])
    async def post(self) -> None:
        body = self.parse_body(SlotDecrement)
        async with self.database.write() as connection:
            rows = await limits.return_named_slots(connection, body.names, body.slots, body.occupancy_seconds)
        self.write_json(minimal(rows))


class IncrementWithLeaseHandler(ApiHandler):
    permission = "concurrency_limit:use"

    @endpoint(
        "Take slots on the named limits under a lease that expires unless renewed (423 when one is full)",
        body=SlotIncrementWithLease,
        response=ConcurrencyLimitWithLease,
        responses={"423": "A limit is full; Retry-After says when to try again"},
    )
    async def post(self) -> None:
        body = self.parse_body(SlotIncrementWithLease)
        holder = body.holder.model_dump() if body.holder else None
        acquisition = LeaseAcquisition(body.names, body.slots, body.mode, body.lease_duration, holder)
        grant = await self.context.lease_batcher.acquire(acquisition)
        if not grant.request.acquired:
            raise refuse(grant.request)
        self.write_json({"lease_id": grant.lease_id, "limits": minimal(grant.request.limits)})


class DecrementWithLeaseHandler(ApiHandler):
    permission = "concurrency_limit:use"

    @endpoint(
        "Release a lease and give back its slots (nothing happens for an unknown lease)", body=LeaseRelease, status=204
    )
    async def post(self) -> None:
        body = self.parse_body(LeaseRelease)
        await self.context.lease_batcher.release(body.lease_id)
        self.write_no_content()


class LeaseRenewHandler(ApiHandler):
    permission = "concurrency_limit:use"

    @endpoint(
        "Extend a lease (410 when it is unknown or expired)",
        body=LeaseRenewal,
        status=204,
        responses={"410": "The lease is unknown, released or expired"},
        optional_body=True,
    )
    async def post(self, lease_id: str) -> None:
        target = self.path_uuid(lease_id, "lease_id")
        body = self.parse_body(LeaseRenewal, default_empty=True)
        async with self.database.write() as connection:
            renewed = await leases.renew_lease(connection, target, body.lease_duration)
        if not renewed:
            raise LeaseExpired("Lease not found - it may have expired or been revoked")
        self.write_no_content()


PREFIX = "/v2/concurrency_limits"
routes = [
    (rf"{PREFIX}/?", LimitsHandler),
    (rf"{PREFIX}/filter/?", LimitFilterHandler),
    (rf"{PREFIX}/increment/?", IncrementHandler),
    (rf"{PREFIX}/decrement/?", DecrementHandler),
    (rf"{PREFIX}/increment-with-lease/?", IncrementWithLeaseHandler),
    (rf"{PREFIX}/decrement-with-lease/?", DecrementWithLeaseHandler),
    (rf"{PREFIX}/leases/(?P<lease_id>[^/]+)/renew/?", LeaseRenewHandler),
    (rf"{PREFIX}/(?P<id_or_name>[^/]+)/holders/?", LimitHoldersHandler),
    (rf"{PREFIX}/(?P<id_or_name>[^/]+)/?", LimitHandler),
]

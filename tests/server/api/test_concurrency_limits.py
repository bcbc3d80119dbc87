"""`/v2/concurrency_limits`: CRUD, slots, 423 with Retry-After, decay, leases, holders and expiry."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.concurrency.concurrency_leases import revoke_expired_leases

V2 = "/v2/concurrency_limits"


async def create_limit(client: httpx.AsyncClient, name: str, limit: int, **fields: Any) -> dict[str, Any]:
    response = await client.post(f"{V2}/", json={"name": name, "limit": limit, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def acquire(
    client: httpx.AsyncClient, names: list[str], slots: int = 1, lease_duration: float = 60, **fields: Any
) -> httpx.Response:
    body = {"names": names, "slots": slots, "mode": "concurrency", "lease_duration": lease_duration, **fields}
    return await client.post(f"{V2}/increment-with-lease", json=body)


async def stored_limit(database: Database, name: str) -> dict[str, Any]:
    table = t.concurrency_limit_v2
    async with database.read() as connection:
        return dict((await connection.execute(sa.select(table).where(table.c.name == name))).mappings().one())


async def lease_count(database: Database) -> int:
    async with database.read() as connection:
        return int(await connection.scalar(sa.select(sa.func.count()).select_from(t.concurrency_lease)))


# --- CRUD -----------------------------------------------------------------------------------------------------------


async def test_create_read_update_delete_by_id_and_name(client: httpx.AsyncClient, database: Database) -> None:
    created = await create_limit(client, "db", 5, slot_decay_per_second=0.5)
    assert created["name"] == "db" and created["limit"] == 5 and created["active"] is True
    assert created["active_slots"] == 0 and created["denied_slots"] == 0

    by_id = (await client.get(f"{V2}/{created['id']}")).json()
    by_name = (await client.get(f"{V2}/db")).json()
    assert by_id == by_name
    assert by_id["slot_decay_per_second"] == 0.5 and by_id["holders"] == []

    assert (await client.patch(f"{V2}/db", json={"limit": 7, "active": False})).status_code == 204
    assert (await client.patch(f"{V2}/{created['id']}", json={"name": "database"})).status_code == 204
    row = await stored_limit(database, "database")
    assert (row["limit"], row["active"]) == (7, False)

    listed = (await client.post(f"{V2}/filter", json={})).json()
    assert [item["name"] for item in listed] == ["database"]

    assert (await client.delete(f"{V2}/database")).status_code == 204
    assert (await client.get(f"{V2}/{created['id']}")).status_code == 404
    async with database.read() as connection:
        assert await connection.scalar(sa.select(sa.func.count()).select_from(t.concurrency_limit_v2)) == 0


async def test_filter_pages_by_name(client: httpx.AsyncClient) -> None:
    for name in ("c", "a", "b"):
        await create_limit(client, name, 1)
    page = (await client.post(f"{V2}/filter", json={"limit": 2, "offset": 1})).json()
    assert [item["name"] for item in page] == ["b", "c"]
    assert (await client.post(f"{V2}/filter", json={"limit": 500})).status_code == 422


async def test_errors_404_409_422(client: httpx.AsyncClient) -> None:
    await create_limit(client, "taken", 1)
    await create_limit(client, "other", 1)
    assert (await client.post(f"{V2}/", json={"name": "taken", "limit": 2})).status_code == 409
    assert (await client.patch(f"{V2}/other", json={"name": "taken"})).status_code == 409
    assert (await client.get(f"{V2}/missing")).status_code == 404
    assert (await client.get(f"{V2}/{uuid.uuid4()}")).status_code == 404
    assert (await client.patch(f"{V2}/missing", json={"limit": 1})).status_code == 404
    assert (await client.delete(f"{V2}/missing")).status_code == 404
    for body in (
        {"name": "x", "limit": -1},
        {"name": "a/b", "limit": 1},
        {"name": "x"},
        {"name": "x", "limit": 1, "y": 1},
    ):
        response = await client.post(f"{V2}/", json=body)
        assert response.status_code == 422, (body, response.text)
    assert (await client.patch(f"{V2}/taken", json={"limit": -2})).status_code == 422
    # More slots than the limit can ever have.
    response = await client.post(f"{V2}/increment", json={"names": ["taken"], "slots": 2})
    assert response.status_code == 422
    assert response.json()["detail"] == "Slots requested is greater than the limit"
    assert (await acquire(client, ["taken"], lease_duration=0.5)).status_code == 422
    assert (await client.post(f"{V2}/increment", json={"names": [], "slots": 1})).status_code == 422


# --- slots ----------------------------------------------------------------------------------------------------------


async def test_increment_until_full_then_423_with_retry_after(client: httpx.AsyncClient, database: Database) -> None:
    limit = await create_limit(client, "pair", 2)
    body = {"names": ["pair", "no-such-limit"], "slots": 1, "mode": "concurrency"}
    for _ in range(2):
        response = await client.post(f"{V2}/increment", json=body)
        assert response.status_code == 200
        assert response.json() == [{"id": limit["id"], "name": "pair", "limit": 2}]
    refused = await client.post(f"{V2}/increment", json=body)
    assert refused.status_code == 423
    assert 0 < float(refused.headers["Retry-After"]) <= 30
    # Refused from a read, without queueing for the write lock (so nothing is written for it).
    row = await stored_limit(database, "pair")
    assert (row["active_slots"], row["denied_slots"]) == (2, 0)

    released = await client.post(f"{V2}/decrement", json={"names": ["pair"], "slots": 1, "occupancy_seconds": 4.0})
    assert released.status_code == 200 and released.json()[0]["name"] == "pair"
    assert (await client.post(f"{V2}/increment", json=body)).status_code == 200
    # Decrementing never goes below zero.
    await client.post(f"{V2}/decrement", json={"names": ["pair"], "slots": 2})
    await client.post(f"{V2}/decrement", json={"names": ["pair"], "slots": 2})
    row = await stored_limit(database, "pair")
    assert row["active_slots"] == 0 and row["avg_slot_occupancy_seconds"] > 2.0


async def test_taking_several_limits_is_all_or_nothing(client: httpx.AsyncClient, database: Database) -> None:
    await create_limit(client, "wide", 5)
    await create_limit(client, "narrow", 1)
    assert (await client.post(f"{V2}/increment", json={"names": ["narrow"], "slots": 1})).status_code == 200
    response = await client.post(f"{V2}/increment", json={"names": ["wide", "narrow"], "slots": 1})
    assert response.status_code == 423
    assert (await stored_limit(database, "wide"))["active_slots"] == 0


async def test_inactive_limits_are_ignored(client: httpx.AsyncClient, database: Database) -> None:
    await create_limit(client, "off", 1, active=False)
    for _ in range(3):
        response = await acquire(client, ["off"])
        assert response.status_code == 200
        assert [item["name"] for item in response.json()["limits"]] == ["off"]
    assert (await stored_limit(database, "off"))["active_slots"] == 0


async def test_names_without_a_limit_give_an_empty_lease(client: httpx.AsyncClient, database: Database) -> None:
    response = await acquire(client, ["tag:nothing"], holder={"type": "task_run", "id": str(uuid.uuid4())})
    assert response.status_code == 200
    body = response.json()
    assert body["limits"] == [] and uuid.UUID(body["lease_id"])
    assert await lease_count(database) == 0


async def test_rate_limit_slots_decay(client: httpx.AsyncClient, database: Database) -> None:
    await create_limit(client, "plain", 2)
    refused = await client.post(f"{V2}/increment", json={"names": ["plain"], "slots": 1, "mode": "rate_limit"})
    assert refused.status_code == 422 and "slot decay" in refused.json()["detail"]

    # One slot a second: slow enough that a loaded machine still sees the limit full before a slot decays.
    await create_limit(client, "rate", 2, slot_decay_per_second=1.0)
    body = {"names": ["rate"], "slots": 1, "mode": "rate_limit"}
    assert (await client.post(f"{V2}/increment", json=body)).status_code == 200
    assert (await client.post(f"{V2}/increment", json=body)).status_code == 200
    full = await client.post(f"{V2}/increment", json=body)
    assert full.status_code == 423
    # Up to two slots at one per second, give or take the jitter.
    assert 0.0 < float(full.headers["Retry-After"]) <= 2.5
    deadline = asyncio.get_running_loop().time() + 5
    read = (await client.get(f"{V2}/rate")).json()
    while read["active_slots"] and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        read = (await client.get(f"{V2}/rate")).json()
    assert read["active_slots"] == 0
    assert (await client.post(f"{V2}/increment", json=body)).status_code == 200
    assert (await stored_limit(database, "rate"))["active_slots"] == 1


# --- leases ---------------------------------------------------------------------------------------------------------


async def test_lease_holders_renew_and_release(client: httpx.AsyncClient, database: Database) -> None:
    limit = await create_limit(client, "leased", 2)
    holder = {"type": "flow_run", "id": str(uuid.uuid4())}
    response = await acquire(client, ["leased"], slots=2, lease_duration=30, holder=holder)
    assert response.status_code == 200
    lease_id = response.json()["lease_id"]
    assert response.json()["limits"] == [{"id": limit["id"], "name": "leased", "limit": 2}]

    read = (await client.get(f"{V2}/leased")).json()
    assert read["active_slots"] == 2
    [listed] = read["holders"]
    assert (listed["type"], listed["id"], listed["lease_id"], listed["slots"]) == (
        "flow_run",
        holder["id"],
        lease_id,
        2,
    )
    assert (await client.get(f"{V2}/leased/holders")).json() == [listed]
    first_expiry = dt.datetime.fromisoformat(listed["expires_at"])

    assert (await client.post(f"{V2}/leases/{lease_id}/renew", json={"lease_duration": 120})).status_code == 204
    renewed = (await client.get(f"{V2}/leased/holders")).json()[0]
    assert dt.datetime.fromisoformat(renewed["expires_at"]) > first_expiry + dt.timedelta(seconds=60)

    assert (await acquire(client, ["leased"])).status_code == 423
    assert (await client.post(f"{V2}/decrement-with-lease", json={"lease_id": lease_id})).status_code == 204
    assert (await stored_limit(database, "leased"))["active_slots"] == 0
    assert await lease_count(database) == 0
    # Releasing twice is harmless; renewing a released lease is 410 Gone, as in Prefect.
    assert (await client.post(f"{V2}/decrement-with-lease", json={"lease_id": lease_id})).status_code == 204
    assert (await stored_limit(database, "leased"))["active_slots"] == 0
    gone = await client.post(f"{V2}/leases/{lease_id}/renew", json={"lease_duration": 60})
    assert gone.status_code == 410
    assert (await client.post(f"{V2}/leases/{uuid.uuid4()}/renew", json={"lease_duration": 60})).status_code == 410
    assert (await client.post(f"{V2}/leases/not-a-uuid/renew", json={"lease_duration": 60})).status_code == 422


async def test_expired_leases_are_revoked_and_cannot_be_renewed(client: httpx.AsyncClient, database: Database) -> None:
    await create_limit(client, "short", 1)
    await create_limit(client, "other", 3)
    expiring = (await acquire(client, ["short", "other"], lease_duration=1)).json()["lease_id"]
    kept = (await acquire(client, ["other"], lease_duration=60)).json()["lease_id"]
    assert (await acquire(client, ["short"])).status_code == 423
    assert await revoke_expired_leases(database) == 0

    await asyncio.sleep(1.05)
    renew = await client.post(f"{V2}/leases/{expiring}/renew", json={"lease_duration": 60})
    assert renew.status_code == 410
    assert await revoke_expired_leases(database) == 1
    assert (await stored_limit(database, "short"))["active_slots"] == 0
    assert (await stored_limit(database, "other"))["active_slots"] == 1
    holders = (await client.get(f"{V2}/other/holders")).json()
    assert [holder["lease_id"] for holder in holders] == [kept]
    assert (await acquire(client, ["short"])).status_code == 200


async def test_expiry_sweeps_in_batches(client: httpx.AsyncClient, database: Database) -> None:
    await create_limit(client, "many", 10)
    for _ in range(5):
        assert (await acquire(client, ["many"], lease_duration=1)).status_code == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    assert await revoke_expired_leases(database, now=later, batch=2) == 5
    assert (await stored_limit(database, "many"))["active_slots"] == 0
    assert await lease_count(database) == 0

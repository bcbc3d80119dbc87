"""`/concurrency_limits`: tag (v1) limits as a view of the `tag:<tag>` global limits; releasing a holder's leases."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.concurrency.concurrency_leases import release_leases_of_holder

V1 = "/concurrency_limits"
V2 = "/v2/concurrency_limits"


async def active_slots(database: Database, name: str) -> int:
    table = t.concurrency_limit_v2
    async with database.read() as connection:
        return int(await connection.scalar(sa.select(table.c.active_slots).where(table.c.name == name)))


async def test_create_is_an_upsert_onto_a_tag_limit(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{V1}/", json={"tag": "db", "concurrency_limit": 2})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["tag"], body["concurrency_limit"], body["active_slots"]) == ("db", 2, [])

    resized = await client.post(f"{V1}/", json={"tag": "db", "concurrency_limit": 5})
    assert resized.status_code == 200
    assert resized.json()["id"] == body["id"] and resized.json()["concurrency_limit"] == 5

    v2 = (await client.get(f"{V2}/tag:db")).json()
    assert (v2["id"], v2["limit"]) == (body["id"], 5)
    assert (await client.get(f"{V1}/{body['id']}")).json()["tag"] == "db"
    assert (await client.get(f"{V1}/tag/db")).json()["id"] == body["id"]

    await client.post(f"{V2}/", json={"name": "not-a-tag", "limit": 1})
    await client.post(f"{V1}/", json={"tag": "api", "concurrency_limit": 1})
    listed = (await client.post(f"{V1}/filter", json={})).json()
    assert [item["tag"] for item in listed] == ["api", "db"]
    not_a_tag = (await client.get(f"{V2}/not-a-tag")).json()["id"]
    assert (await client.get(f"{V1}/{not_a_tag}")).status_code == 404


async def test_increment_decrement_and_423(client: httpx.AsyncClient, database: Database) -> None:
    await client.post(f"{V1}/", json={"tag": "db", "concurrency_limit": 2})
    runs = [str(uuid.uuid4()) for _ in range(3)]
    for run in runs[:2]:
        response = await client.post(f"{V1}/increment", json={"names": ["db", "untracked"], "task_run_id": run})
        assert response.status_code == 200
        assert [item["name"] for item in response.json()] == ["db"]
    full = await client.post(f"{V1}/increment", json={"names": ["db"], "task_run_id": runs[2]})
    assert full.status_code == 423 and float(full.headers["Retry-After"]) > 0
    assert sorted((await client.get(f"{V1}/tag/db")).json()["active_slots"]) == sorted(runs[:2])

    released = await client.post(f"{V1}/decrement", json={"names": ["db"], "task_run_id": runs[0]})
    assert released.status_code == 200 and released.json()[0]["name"] == "db"
    assert (await client.get(f"{V1}/tag/db")).json()["active_slots"] == [runs[1]]
    assert await active_slots(database, "tag:db") == 1
    assert (await client.post(f"{V1}/increment", json={"names": ["db"], "task_run_id": runs[2]})).status_code == 200


async def test_a_zero_limit_is_423_without_retry_after(client: httpx.AsyncClient) -> None:
    await client.post(f"{V1}/", json={"tag": "off", "concurrency_limit": 0})
    response = await client.post(f"{V1}/increment", json={"names": ["off"], "task_run_id": str(uuid.uuid4())})
    assert response.status_code == 423
    assert "Retry-After" not in response.headers
    assert "is 0 and will deadlock" in response.json()["detail"]


async def test_reset_and_delete(client: httpx.AsyncClient, database: Database) -> None:
    created = (await client.post(f"{V1}/", json={"tag": "db", "concurrency_limit": 3})).json()
    for _ in range(3):
        await client.post(f"{V1}/increment", json={"names": ["db"], "task_run_id": str(uuid.uuid4())})
    keep = str(uuid.uuid4())
    reset = await client.post(f"{V1}/tag/db/reset", json={"slot_override": [keep]})
    assert reset.status_code == 200
    assert (await client.get(f"{V1}/tag/db")).json()["active_slots"] == [keep]
    assert await active_slots(database, "tag:db") == 1
    assert (await client.post(f"{V1}/tag/db/reset")).status_code == 200
    assert await active_slots(database, "tag:db") == 0
    assert (await client.post(f"{V1}/tag/none/reset")).status_code == 404

    await client.post(f"{V1}/increment", json={"names": ["db"], "task_run_id": keep})
    assert (await client.delete(f"{V1}/{created['id']}")).status_code == 200
    assert (await client.get(f"{V1}/{created['id']}")).status_code == 404
    async with database.read() as connection:
        assert await connection.scalar(sa.select(sa.func.count()).select_from(t.concurrency_lease)) == 0

    await client.post(f"{V1}/", json={"tag": "api", "concurrency_limit": 1})
    assert (await client.delete(f"{V1}/tag/api")).status_code == 200
    assert (await client.delete(f"{V1}/tag/api")).status_code == 404
    assert (await client.delete(f"{V1}/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"{V1}/not-a-uuid")).status_code == 422


async def test_release_leases_of_holder_frees_every_slot_it_held(client: httpx.AsyncClient, database: Database) -> None:
    await client.post(f"{V2}/", json={"name": "a", "limit": 2})
    await client.post(f"{V2}/", json={"name": "b", "limit": 2})
    run, other = str(uuid.uuid4()), str(uuid.uuid4())
    for names, holder in ((["a", "b"], run), (["a"], run), (["b"], other)):
        body = {"names": names, "slots": 1, "lease_duration": 60, "holder": {"type": "flow_run", "id": holder}}
        assert (await client.post(f"{V2}/increment-with-lease", json=body)).status_code == 200
    async with database.write() as connection:
        assert await release_leases_of_holder(connection, uuid.UUID(run)) == 2
    assert await active_slots(database, "a") == 0
    assert await active_slots(database, "b") == 1
    holders = (await client.get(f"{V2}/b/holders")).json()
    assert [holder["id"] for holder in holders] == [other]

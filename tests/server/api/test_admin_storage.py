"""`/admin/storage`: the server-wide default result storage, over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import httpx

from tests.server.api.test_blocks import create_document, create_type_and_schema

NONE_SET = {"default_result_storage_block_id": None}


async def test_set_read_clear_the_default(client: httpx.AsyncClient) -> None:
    assert (await client.get("/admin/storage")).json() == NONE_SET
    _, schema = await create_type_and_schema(client, "store", capabilities=["read-path", "write-path"])
    document = await create_document(client, schema, "results", {})

    stored = await client.put("/admin/storage", json={"default_result_storage_block_id": document["id"]})
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"default_result_storage_block_id": document["id"]}
    assert (await client.get("/admin/storage")).json() == stored.json()

    cleared = await client.delete("/admin/storage")
    assert cleared.status_code == 204
    assert (await client.get("/admin/storage")).json() == NONE_SET
    assert (await client.delete("/admin/storage")).status_code == 204


async def test_only_an_existing_writable_block_may_be_the_default(client: httpx.AsyncClient) -> None:
    missing = await client.put("/admin/storage", json={"default_result_storage_block_id": str(uuid.uuid4())})
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]
    _, schema = await create_type_and_schema(client, "reader", capabilities=["read-path"])
    read_only = await create_document(client, schema, "ro", {})
    refused = await client.put("/admin/storage", json={"default_result_storage_block_id": read_only["id"]})
    assert refused.status_code == 422 and "cannot be used for result storage" in refused.json()["detail"]
    assert (await client.put("/admin/storage", json={})).status_code == 422
    assert (await client.put("/admin/storage", json={"default_result_storage_block_id": "x"})).status_code == 422
    assert (await client.get("/admin/storage")).json() == NONE_SET


async def test_a_deleted_block_is_no_longer_the_default(client: httpx.AsyncClient) -> None:
    _, schema = await create_type_and_schema(client, "gone", capabilities=["write-path"])
    document = await create_document(client, schema, "soon-gone", {})
    await client.put("/admin/storage", json={"default_result_storage_block_id": document["id"]})
    assert (await client.delete(f"/block_documents/{document['id']}")).status_code == 204
    assert (await client.get("/admin/storage")).json() == NONE_SET

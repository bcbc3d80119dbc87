"""Block types, schemas and documents over real HTTP on SQLite and PostgreSQL; secrets encrypted at rest."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from baton.server.blocks import register_system_blocks
from baton.server.blocks.checksums import schema_checksum
from baton.server.blocks.encryption import ENCRYPTION_KEY_NAME
from baton.server.database import tables as t
from baton.server.database.engine import Database

PAGER_FIELDS: dict[str, Any] = {
    "title": "Pager",
    "type": "object",
    "properties": {
        "url": {"title": "Url", "type": "string"},
        "token": {"title": "Token", "type": "string", "format": "password", "writeOnly": True},
        "headers": {"title": "Headers", "type": "object"},
    },
    "required": ["url"],
    "block_type_slug": "pager",
    "secret_fields": ["token", "headers.*"],
    "block_schema_references": {},
}
SECRET_TOKEN = "tok-4f1c0ffee-plaintext"


async def create_type_and_schema(
    client: httpx.AsyncClient, slug: str = "pager", fields: dict[str, Any] | None = None, **schema: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    block_type = await client.post("/block_types/", json={"name": slug.title(), "slug": slug})
    assert block_type.status_code == 201, block_type.text
    body = {"fields": fields or PAGER_FIELDS, "block_type_id": block_type.json()["id"], **schema}
    block_schema = await client.post("/block_schemas/", json=body)
    assert block_schema.status_code == 201, block_schema.text
    return block_type.json(), block_schema.json()


async def create_document(
    client: httpx.AsyncClient, block_schema: dict[str, Any], name: str | None, data: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    body = {"data": data, "block_schema_id": block_schema["id"], "block_type_id": block_schema["block_type_id"]}
    response = await client.post("/block_documents/", json={**body, **({"name": name} if name else {}), **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def test_block_types_create_read_update_filter_delete(client: httpx.AsyncClient) -> None:
    created = await client.post("/block_types/", json={"name": "My Store", "slug": "my-store", "description": "d"})
    assert created.status_code == 201
    block_type = created.json()
    assert block_type["is_protected"] is False
    assert (await client.get(f"/block_types/{block_type['id']}")).json()["slug"] == "my-store"
    assert (await client.get("/block_types/slug/my-store")).json()["id"] == block_type["id"]

    patched = await client.patch(f"/block_types/{block_type['id']}", json={"code_example": "x = 1"})
    assert patched.status_code == 204
    after = (await client.get("/block_types/slug/my-store")).json()
    assert (after["code_example"], after["description"]) == ("x = 1", "d")

    await create_type_and_schema(client, "other-store", capabilities=["read-path"])
    names = [row["name"] for row in (await client.post("/block_types/filter", json={})).json()]
    assert names == ["My Store", "Other-Store"]
    by_name = await client.post("/block_types/filter", json={"block_types": {"name": {"like_": "my"}}})
    assert [row["slug"] for row in by_name.json()] == ["my-store"]
    by_slug = await client.post("/block_types/filter", json={"block_types": {"slug": {"any_": ["other-store"]}}})
    assert [row["slug"] for row in by_slug.json()] == ["other-store"]
    capable = {"block_schemas": {"block_capabilities": {"all_": ["read-path"]}}}
    assert [row["slug"] for row in (await client.post("/block_types/filter", json=capable)).json()] == ["other-store"]

    assert (await client.delete(f"/block_types/{block_type['id']}")).status_code == 204
    assert (await client.get(f"/block_types/{block_type['id']}")).status_code == 404
    assert (await client.get("/block_types/slug/my-store")).status_code == 404


async def test_block_type_errors(client: httpx.AsyncClient) -> None:
    await client.post("/block_types/", json={"name": "Store", "slug": "store"})
    taken = await client.post("/block_types/", json={"name": "Store 2", "slug": "store"})
    assert taken.status_code == 409
    assert "store" in taken.json()["detail"]
    reserved = await client.post("/block_types/", json={"name": "Prefect Thing", "slug": "thing"})
    assert reserved.status_code == 403
    assert "reserved" in reserved.json()["detail"]
    bad_slug = await client.post("/block_types/", json={"name": "Store", "slug": "Not A Slug"})
    assert bad_slug.status_code == 422
    assert "lowercase letters, numbers, and dashes" in bad_slug.text
    unknown_field = await client.patch(f"/block_types/{uuid.uuid4()}", json={"name": "renamed"})
    assert unknown_field.status_code == 422
    assert (await client.patch(f"/block_types/{uuid.uuid4()}", json={"description": "x"})).status_code == 404
    assert (await client.delete(f"/block_types/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/block_types/not-a-uuid")).status_code == 422
    assert (await client.post("/block_types/filter", json={"limit": 201})).status_code == 422


async def test_block_schemas_checksum_reads_filter_and_delete(client: httpx.AsyncClient) -> None:
    block_type, block_schema = await create_type_and_schema(client, capabilities=["notify"], version="1.0")
    assert block_schema["checksum"] == schema_checksum(PAGER_FIELDS)
    assert block_schema["block_type"]["slug"] == "pager"
    assert block_schema["fields"] == PAGER_FIELDS
    again = await client.post(
        "/block_schemas/", json={"fields": PAGER_FIELDS, "block_type_id": block_type["id"], "version": "1.0"}
    )
    assert again.status_code == 200
    assert again.json()["id"] == block_schema["id"]
    newer = await client.post(
        "/block_schemas/", json={"fields": PAGER_FIELDS, "block_type_id": block_type["id"], "version": "2.0"}
    )
    assert newer.status_code == 201

    checksum = block_schema["checksum"]
    assert (await client.get(f"/block_schemas/{block_schema['id']}")).json()["version"] == "1.0"
    assert (await client.get(f"/block_schemas/checksum/{checksum}")).json()["version"] == "2.0"
    versioned = await client.get(f"/block_schemas/checksum/{checksum}", params={"version": "1.0"})
    assert versioned.json()["id"] == block_schema["id"]
    assert (await client.get(f"/block_schemas/checksum/{checksum}", params={"version": "9"})).status_code == 404

    everything = (await client.post("/block_schemas/filter", json={})).json()
    assert [row["version"] for row in everything] == ["2.0", "1.0"]
    notify = {"block_schemas": {"block_capabilities": {"all_": ["notify"]}}}
    assert [row["id"] for row in (await client.post("/block_schemas/filter", json=notify)).json()] == [
        block_schema["id"]
    ]
    by_version = {"block_schemas": {"version": {"any_": ["2.0"]}, "block_type_id": {"any_": [block_type["id"]]}}}
    assert [row["version"] for row in (await client.post("/block_schemas/filter", json=by_version)).json()] == ["2.0"]
    assert (await client.get("/block_capabilities/")).json() == ["notify"]

    assert (await client.delete(f"/block_schemas/{block_schema['id']}")).status_code == 204
    assert (await client.get(f"/block_schemas/{block_schema['id']}")).status_code == 404
    assert (await client.delete(f"/block_schemas/{block_schema['id']}")).status_code == 404
    missing_type = await client.post("/block_schemas/", json={"fields": {}, "block_type_id": str(uuid.uuid4())})
    assert missing_type.status_code == 404
    assert (await client.post("/block_schemas/", json={"fields": {}})).status_code == 422


async def test_secrets_are_encrypted_at_rest_and_hidden_in_responses(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, block_schema = await create_type_and_schema(client)
    data = {"url": "https://pager.example", "token": SECRET_TOKEN, "headers": {"X-Key": "header-secret-value"}}
    document = await create_document(client, block_schema, "main", data)
    hidden = {"url": "https://pager.example", "token": "********", "headers": {"X-Key": "********"}}
    assert document["data"] == hidden
    assert document["block_type"]["slug"] == "pager"
    assert document["block_schema"]["id"] == block_schema["id"]

    async with database.read() as connection:
        stored = (await connection.execute(sa.select(t.block_document.c.data))).scalar_one()
        key = (
            await connection.execute(
                sa.select(t.configuration.c.value).where(t.configuration.c.key == ENCRYPTION_KEY_NAME)
            )
        ).scalar_one()
    for plaintext in (SECRET_TOKEN, "header-secret-value", "pager.example", "token"):
        assert plaintext not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token
    assert len(key["fernet_key"]) == 44

    by_id = f"/block_documents/{document['id']}"
    assert (await client.get(by_id)).json()["data"] == hidden
    assert (await client.get(by_id, params={"include_secrets": "true"})).json()["data"] == data
    by_name = "/block_types/slug/pager/block_documents/name/main"
    assert (await client.get(by_name)).json()["data"] == hidden
    assert (await client.get(by_name, params={"include_secrets": "true"})).json()["data"] == data
    listed = (await client.get("/block_types/slug/pager/block_documents")).json()
    assert [row["data"] for row in listed] == [hidden]
    shown = (await client.post("/block_documents/filter", json={"include_secrets": True})).json()
    assert [row["data"] for row in shown] == [data]
    assert (await client.post("/block_documents/filter", json={})).json()[0]["data"] == hidden
    assert (await client.get(by_id, params={"include_secrets": "maybe"})).status_code == 422


async def test_update_merges_or_replaces_and_keeps_obfuscated_secrets(client: httpx.AsyncClient) -> None:
    _, block_schema = await create_type_and_schema(client)
    document = await create_document(
        client, block_schema, "main", {"url": "https://a", "token": SECRET_TOKEN, "headers": {"k": "v"}}
    )
    path = f"/block_documents/{document['id']}"
    secrets = {"include_secrets": "true"}

    assert (await client.patch(path, json={"data": {"url": "https://b"}})).status_code == 204
    merged = (await client.get(path, params=secrets)).json()["data"]
    assert merged == {"url": "https://b", "token": SECRET_TOKEN, "headers": {"k": "v"}}

    # A client that read the document without secrets and writes all of it back keeps the stored secrets.
    shown = (await client.get(path)).json()["data"]
    written_back = {**shown, "url": "https://c"}
    assert (await client.patch(path, json={"data": written_back, "merge_existing_data": False})).status_code == 204
    assert (await client.get(path, params=secrets)).json()["data"] == {**merged, "url": "https://c"}

    replaced = await client.patch(path, json={"data": {"url": "https://d"}, "merge_existing_data": False})
    assert replaced.status_code == 204
    assert (await client.get(path, params=secrets)).json()["data"] == {"url": "https://d"}

    assert (await client.patch(f"/block_documents/{uuid.uuid4()}", json={"data": {}})).status_code == 404
    assert (await client.patch(path, json={"data": {}, "colour": "red"})).status_code == 422
    other_type, other_schema = await create_type_and_schema(client, "other", {"title": "Other", "type": "object"})
    moved = await client.patch(path, json={"block_schema_id": other_schema["id"]})
    assert moved.status_code == 422
    assert "another block type" in moved.json()["detail"]
    assert (await client.patch(path, json={"block_schema_id": str(uuid.uuid4())})).status_code == 422


async def test_document_errors_are_4xx(client: httpx.AsyncClient) -> None:
    _, block_schema = await create_type_and_schema(client)
    await create_document(client, block_schema, "main", {"url": "u"})
    body = {"name": "main", "data": {}, "block_schema_id": block_schema["id"]}
    duplicate = await client.post("/block_documents/", json={**body, "block_type_id": block_schema["block_type_id"]})
    assert duplicate.status_code == 409
    unnamed = {**body, "name": None, "block_type_id": block_schema["block_type_id"]}
    assert (await client.post("/block_documents/", json=unnamed)).status_code == 422
    bad_name = await client.post(
        "/block_documents/", json={**body, "name": "Main Doc", "block_type_id": block_schema["block_type_id"]}
    )
    assert bad_name.status_code == 422
    assert "lowercase" in bad_name.text
    unknown_type = await client.post("/block_documents/", json={**body, "block_type_id": str(uuid.uuid4())})
    assert unknown_type.status_code == 404
    unknown_schema = {**body, "name": "x", "block_schema_id": str(uuid.uuid4())}
    response = await client.post(
        "/block_documents/", json={**unknown_schema, "block_type_id": block_schema["block_type_id"]}
    )
    assert response.status_code == 404
    bad_reference = {"url": "u", "child": {"$ref": {"block_document_id": "nope"}}}
    response = await create_raw(client, block_schema, "y", bad_reference)
    assert response.status_code == 422
    missing_reference = {"url": "u", "child": {"$ref": {"block_document_id": str(uuid.uuid4())}}}
    assert (await create_raw(client, block_schema, "z", missing_reference)).status_code == 422
    assert (await client.get(f"/block_documents/{uuid.uuid4()}")).status_code == 404
    assert (await client.delete(f"/block_documents/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/block_types/slug/pager/block_documents/name/nope")).status_code == 404
    assert (await client.get("/block_types/slug/nope/block_documents")).status_code == 404
    assert (await client.post("/block_documents/filter", json={"sort": "SIDEWAYS"})).status_code == 422
    # Nothing half-written: only the first document exists.
    assert (await client.post("/block_documents/count", json={})).json() == 1


async def create_raw(
    client: httpx.AsyncClient, block_schema: dict[str, Any], name: str, data: dict[str, Any]
) -> httpx.Response:
    body = {"name": name, "data": data, "block_schema_id": block_schema["id"]}
    return await client.post("/block_documents/", json={**body, "block_type_id": block_schema["block_type_id"]})


async def test_anonymous_documents_filter_count_sort_and_delete(client: httpx.AsyncClient) -> None:
    _, pager = await create_type_and_schema(client)
    _, alarm = await create_type_and_schema(client, "alarm", {"title": "Alarm", "type": "object"})
    await create_document(client, pager, "beta", {"url": "u"})
    await create_document(client, alarm, "alpha", {})
    anonymous = await create_document(client, pager, None, {"url": "u"}, is_anonymous=True)
    assert anonymous["name"].startswith("anonymous-")
    assert anonymous["is_anonymous"] is True

    async def names(body: dict[str, Any]) -> list[str]:
        response = await client.post("/block_documents/filter", json=body)
        assert response.status_code == 200, response.text
        return [row["name"] for row in response.json()]

    assert await names({}) == ["alpha", "beta"]
    assert await names({"sort": "NAME_DESC"}) == ["beta", "alpha"]
    assert await names({"sort": "BLOCK_TYPE_AND_NAME_ASC"}) == ["alpha", "beta"]
    assert await names({"block_documents": {"is_anonymous": {"eq_": True}}}) == [anonymous["name"]]
    assert len(await names({"block_documents": {"is_anonymous": None}})) == 3
    assert await names({"block_types": {"slug": {"any_": ["pager"]}}}) == ["beta"]
    assert await names({"block_schemas": {"id": {"any_": [alarm["id"]]}}}) == ["alpha"]
    assert await names({"block_documents": {"name": {"like_": "ETA"}}}) == ["beta"]
    assert await names({"limit": 1, "offset": 1}) == ["beta"]
    # The Prefect client sends these two keys this way.
    assert await names({"block_schema_type": None, "offset": None}) == ["alpha", "beta"]
    assert (await client.post("/block_documents/count", json={})).json() == 2
    assert (await client.post("/block_documents/count", json={"block_documents": None})).json() == 2
    all_documents = {"block_documents": {"is_anonymous": None}}
    assert (await client.post("/block_documents/count", json=all_documents)).json() == 3
    assert (await client.get(f"/block_documents/{anonymous['id']}")).json()["is_anonymous"] is True
    listed = (await client.get("/block_types/slug/pager/block_documents")).json()
    assert [row["name"] for row in listed] == ["beta"]

    assert (await client.delete(f"/block_documents/{anonymous['id']}")).status_code == 204
    assert (await client.post("/block_documents/count", json=all_documents)).json() == 2


async def test_nested_block_schemas_and_document_references(client: httpx.AsyncClient) -> None:
    child_fields = {
        "title": "Creds",
        "type": "object",
        "properties": {"password": {"title": "Password", "type": "string", "format": "password", "writeOnly": True}},
        "block_type_slug": "creds",
        "secret_fields": ["password"],
        "block_schema_references": {},
    }
    parent_fields = {
        "title": "Bucket",
        "type": "object",
        "properties": {"name": {"type": "string"}, "creds": {"$ref": "#/definitions/Creds"}},
        "block_type_slug": "bucket",
        "secret_fields": ["creds.password"],
        "block_schema_references": {
            "creds": {"block_type_slug": "creds", "block_schema_checksum": schema_checksum(child_fields)}
        },
        "definitions": {"Creds": child_fields},
    }
    creds_type = (await client.post("/block_types/", json={"name": "Creds", "slug": "creds"})).json()
    _, bucket_schema = await create_type_and_schema(client, "bucket", parent_fields)
    # The nested schema was stored on its own, and reads put the reference and the definition back.
    assert bucket_schema["fields"] == parent_fields
    nested = (await client.get(f"/block_schemas/checksum/{schema_checksum(child_fields)}")).json()
    assert nested["block_type_id"] == creds_type["id"]
    assert nested["fields"] == child_fields

    creds = await create_document(client, nested, "creds", {"password": "hunter2"})
    bucket = await create_document(
        client, bucket_schema, "bucket", {"name": "b", "creds": {"$ref": {"block_document_id": creds["id"]}}}
    )
    assert bucket["data"] == {"name": "b", "creds": {"password": "********"}}
    reference = bucket["block_document_references"]["creds"]["block_document"]
    assert (reference["id"], reference["name"], reference["block_type"]["slug"]) == (creds["id"], "creds", "creds")
    shown = (await client.get(f"/block_documents/{bucket['id']}", params={"include_secrets": "true"})).json()
    assert shown["data"] == {"name": "b", "creds": {"password": "hunter2"}}

    # A merge that does not mention the reference keeps it; a reference back to the parent is refused.
    path = f"/block_documents/{bucket['id']}"
    assert (await client.patch(path, json={"data": {"name": "c"}})).status_code == 204
    assert (await client.get(path)).json()["data"] == {"name": "c", "creds": {"password": "********"}}
    cycle = {"data": {"loop": {"$ref": {"block_document_id": bucket["id"]}}}}
    refused = await client.patch(f"/block_documents/{creds['id']}", json=cycle)
    assert refused.status_code == 422
    assert "refers back" in refused.json()["detail"]

    missing = dict(parent_fields, title="Other", block_type_slug="other")
    missing["block_schema_references"] = {"creds": {"block_type_slug": "nope", "block_schema_checksum": "sha256:0"}}
    other_type = (await client.post("/block_types/", json={"name": "Other", "slug": "other"})).json()
    response = await client.post("/block_schemas/", json={"fields": missing, "block_type_id": other_type["id"]})
    assert response.status_code == 422
    assert "'nope' was not found" in response.json()["detail"]


async def test_system_blocks_register_once_and_are_protected(client: httpx.AsyncClient, database: Database) -> None:
    assert await register_system_blocks(database) is True

    async def snapshot() -> list[tuple[Any, ...]]:
        async with database.read() as connection:
            rows: list[tuple[Any, ...]] = []
            for table in (t.block_type, t.block_schema, t.configuration):
                rows += [tuple(row) for row in await connection.execute(sa.select(table.c.id, table.c.updated))]
            return sorted(rows, key=str)

    before = await snapshot()
    assert await register_system_blocks(database) is False
    assert await register_system_blocks(database, force=True) is False
    installed = await client.post("/block_types/install_system_block_types")
    assert (installed.status_code, installed.json()) == (200, None)
    assert await snapshot() == before

    slugs = {row["slug"] for row in (await client.post("/block_types/filter", json={})).json()}
    assert {"slack-webhook", "secret", "json", "local-file-system", "email-server-credentials", "webhook"} <= slugs
    assert len(slugs) == 14
    assert "notify" in (await client.get("/block_capabilities/")).json()
    secret = (await client.get("/block_types/slug/secret")).json()
    assert secret["is_protected"] is True
    refused = await client.delete(f"/block_types/{secret['id']}")
    # Prefect's client recognises a protected block type by this exact detail (`prefect block type delete` says so).
    assert (refused.status_code, refused.json()) == (403, {"detail": "protected block types cannot be deleted."})
    schemas = {"block_schemas": {"block_type_id": {"any_": [secret["id"]]}}}
    secret_schema = (await client.post("/block_schemas/filter", json=schemas)).json()[0]
    assert (await client.delete(f"/block_schemas/{secret_schema['id']}")).status_code == 403
    slack = (await client.get("/block_types/slug/slack-webhook")).json()
    assert (await client.delete(f"/block_types/{slack['id']}")).status_code == 204

    # Documents of the built-in types hide the secret fields their schemas declare.
    document = await create_document(client, secret_schema, "db-password", {"value": "s3cr3t"})
    assert document["data"] == {"value": "********"}

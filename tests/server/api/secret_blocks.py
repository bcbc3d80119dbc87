"""A `secret` block document made through the API, for tests of who may read its value."""

from __future__ import annotations

import uuid

import httpx

SECRET_VALUE = "hunter2"


async def create_secret_block(client: httpx.AsyncClient, headers: dict[str, str], api: str = "") -> dict[str, str]:
    """A new `secret` block document holding SECRET_VALUE (its id and name), created with `headers` (which need
    block:write); `api` is the API's prefix on the client's base URL."""
    installed = await client.post(f"{api}/block_types/install_system_block_types", headers=headers)
    assert installed.status_code == 200, installed.text
    block_type = (await client.get(f"{api}/block_types/slug/secret", headers=headers)).json()
    schemas = (await client.post(f"{api}/block_schemas/filter", json={}, headers=headers)).json()
    schema_id = next(schema["id"] for schema in schemas if schema["block_type_id"] == block_type["id"])
    name = f"db-password-{uuid.uuid4().hex[:6]}"
    document = {
        "name": name,
        "block_type_id": block_type["id"],
        "block_schema_id": schema_id,
        "data": {"value": SECRET_VALUE},
    }
    response = await client.post(f"{api}/block_documents/", json=document, headers=headers)
    assert response.status_code == 201, response.text
    return {"id": response.json()["id"], "name": name}

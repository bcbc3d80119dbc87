"""The official Prefect client saves and loads blocks against Baton (in a subprocess, to keep its global state out
of pytest): it finds the built-in schemas by their checksums instead of registering its own."""

from __future__ import annotations

from pathlib import Path

import httpx

from baton.server.blocks import register_system_blocks
from baton.server.database.engine import Database
from tests.server.api.prefect_client_script import run_prefect_client_script

# Importing prefect takes about 2 s; anything near this limit is a hang.
CLIENT_TIMEOUT_SECONDS = 60
CLIENT_SCRIPT = '''
import json
from typing import Any

from pydantic import Field
from prefect.blocks.core import Block
from prefect.blocks.system import Secret


class JSON(Block):
    """
    A block that represents JSON. Deprecated, please use Variables to store JSON data instead.

    Attributes:
        value: A JSON-compatible value.
    """

    value: Any = Field(default=..., description="A JSON-compatible value.")


Secret(value="first").save("from-client")
Secret(value="saved-by-the-client").save("from-client", overwrite=True)
print(json.dumps({
    "from_client": Secret.load("from-client").get(),
    "from_api": Secret.load("from-api").get(),
    "json": JSON.load("settings").value,
}))
'''


async def test_prefect_client_saves_and_loads_secrets_and_json(
    client: httpx.AsyncClient, database: Database, base_url: str, tmp_path: Path
) -> None:
    await register_system_blocks(database)
    for slug, name, data in (("secret", "from-api", {"value": "made-over-rest"}), ("json", "settings", {"value": [1]})):
        block_type = (await client.get(f"/block_types/slug/{slug}")).json()
        filter_body = {"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
        block_schema = (await client.post("/block_schemas/filter", json=filter_body)).json()[0]
        body = {"name": name, "data": data, "block_schema_id": block_schema["id"], "block_type_id": block_type["id"]}
        assert (await client.post("/block_documents/", json=body)).status_code == 201

    loaded = await run_prefect_client_script(CLIENT_SCRIPT, base_url, tmp_path, CLIENT_TIMEOUT_SECONDS)
    assert loaded == {"from_client": "saved-by-the-client", "from_api": "made-over-rest", "json": [1]}

    # The client found Baton's Secret schema by checksum and version, so it registered no schema of its own.
    secret_type = (await client.get("/block_types/slug/secret")).json()
    filter_body = {"block_schemas": {"block_type_id": {"any_": [secret_type["id"]]}}}
    assert len((await client.post("/block_schemas/filter", json=filter_body)).json()) == 1
    saved = (await client.get("/block_types/slug/secret/block_documents/name/from-client")).json()
    assert saved["data"] == {"value": "********"}

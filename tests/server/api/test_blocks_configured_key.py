"""A server with BATON_SERVER_ENCRYPTION_KEY set encrypts block documents with that key and stores none."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.settings import Settings
from tests.server.api.test_blocks import PAGER_FIELDS, SECRET_TOKEN, create_document, create_type_and_schema

KEY = Fernet.generate_key().decode()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, api_database_connection_url=database_url, server_encryption_key=KEY)


async def test_configured_key_encrypts_documents(client: httpx.AsyncClient, database: Database) -> None:
    _, block_schema = await create_type_and_schema(client, fields=PAGER_FIELDS)
    data = {"url": "u", "token": SECRET_TOKEN}
    document = await create_document(client, block_schema, "main", data)
    shown = await client.get(f"/block_documents/{document['id']}", params={"include_secrets": "true"})
    assert shown.json()["data"] == data
    async with database.read() as connection:
        stored = (await connection.execute(sa.select(t.block_document.c.data))).scalar_one()
        keys = (await connection.execute(sa.select(sa.func.count()).select_from(t.configuration))).scalar_one()
    assert json.loads(Fernet(KEY).decrypt(stored.encode())) == data
    assert keys == 0

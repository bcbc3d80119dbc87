"""Block data encryption: the key from the setting or generated once and shared through the database."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from baton.errors import SettingsError
from baton.server.blocks.encryption import ENCRYPTION_KEY_NAME, BlockCipher, DecryptionFailed
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.settings import SECRET_MASK, mask_secret, parse_setting_value

DATA = {"token": "s3cr3t", "nested": {"n": 1}}


async def _stored_keys(database: Database) -> list[dict[str, str]]:
    async with database.read() as connection:
        query = sa.select(t.configuration.c.value).where(t.configuration.c.key == ENCRYPTION_KEY_NAME)
        return list((await connection.execute(query)).scalars())


async def test_generated_key_is_stored_once_and_shared(database: Database) -> None:
    async with database.write() as connection:
        token = await BlockCipher().encrypt(connection, DATA)
    async with database.write() as connection:
        other = await BlockCipher().encrypt(connection, DATA)
    assert "s3cr3t" not in token
    assert len(await _stored_keys(database)) == 1
    async with database.read() as connection:
        assert await BlockCipher().decrypt(connection, token, uuid.uuid4()) == DATA
        assert await BlockCipher().decrypt(connection, other, uuid.uuid4()) == DATA


async def test_configured_key_is_used_and_not_stored(database: Database) -> None:
    key = Fernet.generate_key().decode()
    async with database.write() as connection:
        token = await BlockCipher(key).encrypt(connection, DATA)
    assert await _stored_keys(database) == []
    assert Fernet(key).decrypt(token.encode())
    async with database.read() as connection:
        with pytest.raises(DecryptionFailed, match="cannot be decrypted"):
            await BlockCipher().decrypt(connection, token, uuid.uuid4())
        with pytest.raises(DecryptionFailed, match="BATON_SERVER_ENCRYPTION_KEY"):
            await BlockCipher(Fernet.generate_key().decode()).decrypt(connection, token, uuid.uuid4())


def test_a_malformed_key_setting_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as refused:
        parse_setting_value("server_encryption_key", "not-a-fernet-key")
    assert "not-a-fernet-key" not in refused.value.message
    assert "Fernet key" in refused.value.message
    assert mask_secret("server_encryption_key", Fernet.generate_key().decode()) == SECRET_MASK

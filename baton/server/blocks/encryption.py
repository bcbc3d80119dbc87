"""Block document data encrypted at rest with Fernet (AES-128-CBC with an HMAC-SHA256 tag, from `cryptography`).

The whole `data` object of a block document is encrypted, secret fields and all, so that nothing in the
`block_document` table is readable without the key. The key is the setting `BATON_SERVER_ENCRYPTION_KEY` when it is
set; otherwise Baton generates one on first use and keeps it in the `configuration` table under `ENCRYPTION_KEY`
(the key Prefect uses), so that every API process of one database shares it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import BatonError
from baton.server.models import configuration

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

ENCRYPTION_KEY_NAME = "ENCRYPTION_KEY"


class DecryptionFailed(BatonError):
    """Stored block data cannot be decrypted with the server's key (the key was changed or lost)."""


class BlockCipher:
    """Encrypts and decrypts block document data; looks the key up once, on first use.

    Make one per request: the key it caches is read inside that request's transaction.
    """

    def __init__(self, configured_key: SecretStr | str | None = None) -> None:
        if isinstance(configured_key, SecretStr):
            configured_key = configured_key.get_secret_value()
        self._configured_key = configured_key or None
        self._fernet: Fernet | None = None

    async def encrypt(self, connection: AsyncConnection, data: dict[str, Any]) -> str:
        """`data` as a Fernet token; generates and stores the key if there is none yet (so write transactions only)."""
        fernet = await self._key(connection, create=True)
        return fernet.encrypt(orjson.dumps(data)).decode()

    async def decrypt(self, connection: AsyncConnection, token: str, document_id: uuid.UUID) -> dict[str, Any]:
        """The data encrypted in `token`; raises DecryptionFailed when the key does not fit."""
        from cryptography.fernet import InvalidToken

        fernet = await self._key(connection, create=False, document_id=document_id)
        try:
            data = orjson.loads(fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError) as exc:
            raise DecryptionFailed(_unreadable(document_id)) from exc
        return data if isinstance(data, dict) else {}

    async def _key(self, connection: AsyncConnection, *, create: bool, document_id: uuid.UUID | None = None) -> Fernet:
        # Imported on first use: cryptography's OpenSSL bindings add to the memory of a server that never needs them.
        from cryptography.fernet import Fernet

        if self._fernet is not None:
            return self._fernet
        key = self._configured_key
        if key is None:
            stored = await configuration.read_configuration(connection, ENCRYPTION_KEY_NAME)
            if stored is None:
                if not create:
                    raise DecryptionFailed(_unreadable(document_id))
                # Two processes may race to create the first key; both end up using whichever row was stored.
                stored = await configuration.create_configuration(
                    connection, ENCRYPTION_KEY_NAME, {"fernet_key": Fernet.generate_key().decode()}
                )
            key = stored["fernet_key"]
        self._fernet = Fernet(key)
        return self._fernet


def _unreadable(document_id: uuid.UUID | None) -> str:
    return (
        f"Block document {document_id} cannot be decrypted with this server's encryption key. Was "
        "BATON_SERVER_ENCRYPTION_KEY changed or unset since it was written, or the configuration table reset?"
    )

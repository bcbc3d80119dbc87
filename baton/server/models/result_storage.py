"""The server-wide default result storage: a block document id kept in the `configuration` table, as Prefect keeps
it (key `server-default-result-storage`). The Prefect client reads it when a flow or task names no result storage."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectNotFound, ValidationFailed
from baton.server.database import tables as t
from baton.server.models.configuration import read_configuration, write_configuration
from baton.server.schemas.blocks import ServerDefaultResultStorage

CONFIGURATION_KEY = "server-default-result-storage"
# The block capability that makes a block usable as result storage (a writable file system).
WRITE_PATH_CAPABILITY = "write-path"


async def read_default_result_storage(connection: AsyncConnection) -> ServerDefaultResultStorage:
    """The configured default; a block document deleted since it was set counts as none configured."""
    value = await read_configuration(connection, CONFIGURATION_KEY)
    configured = ServerDefaultResultStorage.model_validate(value or {})
    block_id = configured.default_result_storage_block_id
    if block_id is None:
        return configured
    exists = await connection.scalar(sa.select(t.block_document.c.id).where(t.block_document.c.id == block_id))
    return configured if exists is not None else ServerDefaultResultStorage()


async def set_default_result_storage(connection: AsyncConnection, block_id: uuid.UUID) -> ServerDefaultResultStorage:
    """Make the block document `block_id` the default; ObjectNotFound when there is no such document,
    ValidationFailed when its schema cannot write results (no `write-path` capability)."""
    capabilities = await connection.scalar(
        sa.select(t.block_schema.c.capabilities)
        .select_from(t.block_document.join(t.block_schema, t.block_schema.c.id == t.block_document.c.block_schema_id))
        .where(t.block_document.c.id == block_id)
    )
    if capabilities is None:
        raise ObjectNotFound(f"Block document {block_id} not found.")
    if WRITE_PATH_CAPABILITY not in capabilities:
        raise ValidationFailed(f"Block document {block_id} cannot be used for result storage.")
    stored = ServerDefaultResultStorage(default_result_storage_block_id=block_id)
    await write_configuration(connection, CONFIGURATION_KEY, stored.model_dump(mode="json"))
    return stored


async def clear_default_result_storage(connection: AsyncConnection) -> None:
    """Forget the default (flows and tasks go back to local files); nothing to do when none is set."""
    await connection.execute(sa.delete(t.configuration).where(t.configuration.c.key == CONFIGURATION_KEY))

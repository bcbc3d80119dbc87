"""Installing the built-in block types and schemas of `baton.server.blocks.system`, idempotently.

Server start calls `register_system_blocks(database)`. A marker in the `configuration` table holds a fingerprint of
the definitions last installed, so a start with nothing new to install costs one small query; a Baton upgrade that
changes the definitions changes the fingerprint and installs them again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists
from baton.server.blocks.system import SYSTEM_BLOCKS, SystemBlock
from baton.server.database.engine import Database
from baton.server.models import configuration
from baton.server.models.blocks import block_schemas, block_types
from baton.server.schemas.blocks import BlockSchemaCreate, BlockTypeCreate

logger = logging.getLogger("baton.server.blocks")

REGISTRATION_MARKER_KEY = "SYSTEM_BLOCKS"
# Server processes started together race to install the types; one retry sees the winner's committed rows.
REGISTRATION_ATTEMPTS = 3


@functools.cache
def definitions_fingerprint() -> str:
    """A hash of every built-in block definition, code example included; it changes whenever one of them does."""
    described = [{**dataclasses.asdict(block), "code_example": block.code_example} for block in SYSTEM_BLOCKS]
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


async def register_system_blocks(database: Database, *, force: bool = False) -> bool:
    """Install the built-in block types and schemas unless the marker says they are current (or `force`).

    Returns True when it wrote anything. Types that exist are brought up to date (metadata, protection); schemas
    are added when their checksum and version are new, never changed or removed. Safe to run from several processes.
    """
    fingerprint = definitions_fingerprint()
    wrote = False
    for attempt in range(REGISTRATION_ATTEMPTS):
        if not force:
            async with database.read() as connection:
                marker = await configuration.read_configuration(connection, REGISTRATION_MARKER_KEY)
            if marker == {"fingerprint": fingerprint}:
                return False
        try:
            wrote = await _install_all(database, fingerprint)
            break
        except ObjectAlreadyExists:
            # Another process starting at the same time created a type first (PostgreSQL: both read "absent").
            # Its transaction has committed, so the next attempt finds the types and only brings them up to date.
            if attempt == REGISTRATION_ATTEMPTS - 1:
                raise
    if wrote:
        logger.info("Installed the built-in block types (%d)", len(SYSTEM_BLOCKS))
    return wrote


async def _install_all(database: Database, fingerprint: str) -> bool:
    wrote = False
    async with database.write() as connection:
        for block in SYSTEM_BLOCKS:
            wrote = await _install(connection, block) or wrote
        marker = await configuration.read_configuration(connection, REGISTRATION_MARKER_KEY)
        if marker != {"fingerprint": fingerprint}:
            await configuration.write_configuration(connection, REGISTRATION_MARKER_KEY, {"fingerprint": fingerprint})
            wrote = True
    return wrote


async def _install(connection: AsyncConnection, block: SystemBlock) -> bool:
    """Create or update one block type and add its schema; True when anything was written."""
    metadata = {
        "logo_url": block.logo_url,
        "documentation_url": block.documentation_url,
        "description": block.description,
        "code_example": block.code_example,
    }
    existing = await block_types.read_block_type_by_slug(connection, block.slug)
    if existing is None:
        created = await block_types.create_block_type(
            connection, BlockTypeCreate(name=block.name, slug=block.slug, **metadata), is_protected=block.is_protected
        )
        block_type_id, wrote = created["id"], True
    else:
        wanted = {**metadata, "is_protected": block.is_protected}
        wrote = any(existing[name] != value for name, value in wanted.items())
        await block_types.update_block_type(connection, existing["id"], wanted)
        block_type_id = existing["id"]
    _, schema_created = await block_schemas.create_block_schema(
        connection,
        BlockSchemaCreate(
            fields=block.fields,
            block_type_id=block_type_id,
            capabilities=list(block.capabilities),
            version=block.version,
        ),
    )
    return wrote or schema_created

"""`/block_schemas`: create (the server computes the checksum), read by id or checksum, filter, delete."""

from __future__ import annotations

from baton.errors import Forbidden, ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.blocks import block_schemas
from baton.server.schemas.block_filters import BlockSchemaFilterRequest
from baton.server.schemas.blocks import BlockSchema, BlockSchemaCreate


class BlockSchemasHandler(ApiHandler):
    permission = "block:write"

    @endpoint(
        "Create a block schema, or return the one with its checksum and version (200) if it exists",
        body=BlockSchemaCreate,
        response=BlockSchema,
        status=201,
        upsert=True,
    )
    async def post(self) -> None:
        block_schema = self.parse_body(BlockSchemaCreate)
        async with self.database.write() as connection:
            row, created = await block_schemas.create_block_schema(connection, block_schema)
        self.write_json(row, status=201 if created else 200)


class BlockSchemaHandler(ApiHandler):
    permission = {"GET": "block:read", "DELETE": "block:write"}

    @endpoint("Read a block schema", response=BlockSchema)
    async def get(self, block_schema_id: str) -> None:
        async with self.database.read() as connection:
            row = await block_schemas.read_block_schema(connection, self.path_uuid(block_schema_id))
        if row is None:
            raise ObjectNotFound(f"Block schema {block_schema_id} not found.")
        self.write_json(row)

    @endpoint(
        "Delete a block schema with its documents (not one of a protected block type)",
        status=204,
        responses={"403": "The block type is protected"},
    )
    async def delete(self, block_schema_id: str) -> None:
        schema_id = self.path_uuid(block_schema_id)
        async with self.database.write() as connection:
            row = await block_schemas.read_block_schema(connection, schema_id)
            if row is None:
                raise ObjectNotFound(f"Block schema {block_schema_id} not found.")
            if row["block_type"]["is_protected"]:
                raise Forbidden("Block schemas for protected block types cannot be deleted.")
            await block_schemas.delete_block_schema(connection, schema_id)
        self.write_no_content()


class BlockSchemaByChecksumHandler(ApiHandler):
    permission = "block:read"

    @endpoint(
        "Read a block schema by checksum: of the given version, or the newest",
        response=BlockSchema,
        query={"version": "the schema version; without it, the newest schema with the checksum"},
    )
    async def get(self, checksum: str) -> None:
        version = self.get_query_argument("version", None)
        async with self.database.read() as connection:
            row = await block_schemas.read_block_schema_by_checksum(connection, checksum, version)
        if row is None:
            raise ObjectNotFound(
                f"No block schema has the checksum {checksum!r}" + (f" and version {version!r}." if version else ".")
            )
        self.write_json(row)


class BlockSchemaFilterHandler(ApiHandler):
    permission = "block:read"

    @endpoint(
        "Block schemas matching a filter, newest first",
        body=BlockSchemaFilterRequest,
        response=list[BlockSchema],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(BlockSchemaFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await block_schemas.filter_block_schemas(connection, request, limit, request.offset)
        self.write_json(rows)


routes = [
    (r"/block_schemas/?", BlockSchemasHandler),
    (r"/block_schemas/filter/?", BlockSchemaFilterHandler),
    (r"/block_schemas/checksum/(?P<checksum>[^/]+)/?", BlockSchemaByChecksumHandler),
    (r"/block_schemas/(?P<block_schema_id>[^/]+)/?", BlockSchemaHandler),
]

"""`/block_types`: create, read by id or slug, update, delete, filter; a type's documents; the built-in types."""

from __future__ import annotations

from baton.errors import Forbidden, ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.block_documents import INCLUDE_SECRETS_QUERY, BlockDocumentApiHandler
from baton.server.api.openapi import endpoint
from baton.server.blocks.registration import register_system_blocks
from baton.server.models.blocks import block_documents, block_types
from baton.server.schemas.block_filters import BlockTypeFilterRequest
from baton.server.schemas.blocks import BlockDocument, BlockType, BlockTypeCreate, BlockTypeUpdate

# Block type names starting with this (in any case) are kept for the system, as in Prefect.
RESERVED_NAME_PREFIX = "prefect"


class BlockTypesHandler(ApiHandler):
    permission = "block:write"

    @endpoint(
        "Create a block type",
        body=BlockTypeCreate,
        response=BlockType,
        status=201,
        responses={"403": "The name is reserved"},
    )
    async def post(self) -> None:
        block_type = self.parse_body(BlockTypeCreate)
        if block_type.name.lower().startswith(RESERVED_NAME_PREFIX):
            raise Forbidden("Block type names beginning with 'Prefect' are reserved.")
        async with self.database.write() as connection:
            row = await block_types.create_block_type(connection, block_type)
        self.write_json(row, status=201)


class BlockTypeHandler(ApiHandler):
    permission = {"GET": "block:read", "PATCH": "block:write", "DELETE": "block:write"}

    @endpoint("Read a block type", response=BlockType)
    async def get(self, block_type_id: str) -> None:
        async with self.database.read() as connection:
            row = await block_types.read_block_type(connection, self.path_uuid(block_type_id))
        if row is None:
            raise ObjectNotFound(f"Block type {block_type_id} not found.")
        self.write_json(row)

    @endpoint("Update a block type's description, code example and links", body=BlockTypeUpdate, status=204)
    async def patch(self, block_type_id: str) -> None:
        type_id = self.path_uuid(block_type_id)
        update = self.parse_body(BlockTypeUpdate)
        async with self.database.write() as connection:
            found = await block_types.update_block_type(connection, type_id, update.model_dump(exclude_unset=True))
        if not found:
            raise ObjectNotFound(f"Block type {block_type_id} not found.")
        self.write_no_content()

    @endpoint(
        "Delete a block type with its schemas and documents (not a protected one)",
        status=204,
        responses={"403": "The block type is protected"},
    )
    async def delete(self, block_type_id: str) -> None:
        type_id = self.path_uuid(block_type_id)
        async with self.database.write() as connection:
            row = await block_types.read_block_type(connection, type_id)
            if row is None:
                raise ObjectNotFound(f"Block type {block_type_id} not found.")
            if row["is_protected"]:
                # Prefect's exact words: its client recognises a protected block type by this detail.
                raise Forbidden("protected block types cannot be deleted.")
            await block_types.delete_block_type(connection, type_id)
        self.write_no_content()


class BlockTypeBySlugHandler(ApiHandler):
    permission = "block:read"

    @endpoint("Read a block type by its slug", response=BlockType)
    async def get(self, slug: str) -> None:
        async with self.database.read() as connection:
            row = await block_types.read_block_type_by_slug(connection, slug)
        if row is None:
            raise ObjectNotFound(f"No block type has the slug {slug!r}.")
        self.write_json(row)


class BlockTypeFilterHandler(ApiHandler):
    permission = "block:read"

    @endpoint(
        "Block types matching a filter, by name",
        body=BlockTypeFilterRequest,
        response=list[BlockType],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(BlockTypeFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await block_types.filter_block_types(connection, request, limit, request.offset)
        self.write_json(rows)


class BlockTypeDocumentsHandler(BlockDocumentApiHandler):
    permission = "block:read"

    @endpoint("The named block documents of a block type", response=list[BlockDocument], query=INCLUDE_SECRETS_QUERY)
    async def get(self, slug: str) -> None:
        include_secrets = self.query_bool("include_secrets")
        async with self.database.read() as connection:
            block_type = await block_types.read_block_type_by_slug(connection, slug)
            if block_type is None:
                raise ObjectNotFound(f"No block type has the slug {slug!r}.")
            rows = await block_documents.read_block_documents_of_type(
                connection, block_type["id"], self.cipher(), include_secrets=include_secrets
            )
        self.write_json(rows)


class BlockTypeDocumentByNameHandler(BlockDocumentApiHandler):
    permission = "block:read"

    @endpoint("A block document by block type slug and name", response=BlockDocument, query=INCLUDE_SECRETS_QUERY)
    async def get(self, slug: str, name: str) -> None:
        include_secrets = self.query_bool("include_secrets")
        async with self.database.read() as connection:
            row = await block_documents.read_block_document_by_name(
                connection, slug, name, self.cipher(), include_secrets=include_secrets
            )
        if row is None:
            raise ObjectNotFound(f"Block document {name!r} of block type {slug!r} not found.")
        self.write_json(row)


class InstallSystemBlockTypesHandler(ApiHandler):
    permission = "block:write"

    @endpoint("Install Baton's built-in block types and schemas (a no-op when they are current)")
    async def post(self) -> None:
        await register_system_blocks(self.database, force=True)
        self.write_json(None)


routes = [
    (r"/block_types/?", BlockTypesHandler),
    (r"/block_types/filter/?", BlockTypeFilterHandler),
    (r"/block_types/install_system_block_types/?", InstallSystemBlockTypesHandler),
    (r"/block_types/slug/(?P<slug>[^/]+)/block_documents/name/(?P<name>[^/]+)/?", BlockTypeDocumentByNameHandler),
    (r"/block_types/slug/(?P<slug>[^/]+)/block_documents/?", BlockTypeDocumentsHandler),
    (r"/block_types/slug/(?P<slug>[^/]+)/?", BlockTypeBySlugHandler),
    (r"/block_types/(?P<block_type_id>[^/]+)/?", BlockTypeHandler),
]

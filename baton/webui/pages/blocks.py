"""The Blocks pages: documents by block type, the catalogue of types, and create/edit forms generated from the block
schema. Secrets never reach the HTML: documents are read with secrets hidden, and secret inputs start empty."""

from __future__ import annotations

from typing import Any

from tornado.escape import xhtml_escape

from baton.errors import ObjectNotFound
from baton.server.blocks.encryption import BlockCipher
from baton.server.models.blocks import block_documents, block_types
from baton.server.models.views import block_summaries
from baton.server.schemas.block_filters import BlockTypeFilterRequest
from baton.webui.base import PageHandler
from baton.webui.block_forms import field_values, form_fields
from baton.webui.markdown import is_web_url
from baton.webui.pagination import Pager

PAGE_SIZE = 50
# The catalogue lists every type on one page; a server has tens of them, not thousands.
MAX_BLOCK_TYPES = 500
EVERY_BLOCK_TYPE = BlockTypeFilterRequest.model_validate({})


def block_type_badge(name: str | None, slug: str | None, logo_url: str | None) -> str:
    """A block type's logo (its first letter when it has no http(s) logo), name and slug, as escaped HTML."""
    if logo_url and is_web_url(logo_url):
        logo = f'<img src="{xhtml_escape(logo_url)}" alt="" width="18" height="18" referrerpolicy="no-referrer">'
    else:
        logo = xhtml_escape((name or "?")[:1].upper())
    return (
        f'<span class="block-type"><span class="block-logo" aria-hidden="true">{logo}</span> '
        f'{xhtml_escape(name or "")} <code class="muted">{xhtml_escape(slug or "")}</code></span>'
    )


class BlockPageHandler(PageHandler):
    def get_template_namespace(self) -> dict[str, Any]:
        return {**super().get_template_namespace(), "block_type_badge": block_type_badge, "is_web_url": is_web_url}

    def cipher(self) -> BlockCipher:
        return BlockCipher(self.context.settings.server_encryption_key)

    async def read_document(self, block_document_id: str) -> dict[str, Any]:
        """The document with its secrets hidden; the not-found page when there is none."""
        document_id = self.path_uuid(block_document_id, "block")
        async with self.database.read() as connection:
            document = await block_documents.read_block_document(connection, document_id, self.cipher())
        if document is None:
            raise ObjectNotFound(f"There is no block with the id {block_document_id}.")
        return document


class BlocksPageHandler(BlockPageHandler):
    permission = "block:read"

    async def get(self) -> None:
        type_slug = self.get_query_argument("type", "") or None
        search = self.get_query_argument("q", "").strip()
        number = self.query_int("page", 1, minimum=1)
        async with self.database.read() as connection:
            total = await block_summaries.count_named_documents(connection, type_slug, search)
            pager = Pager(number, PAGE_SIZE, total, "/blocks", (("q", search), ("type", type_slug or "")))
            documents = await block_summaries.read_named_document_summaries(
                connection, type_slug, search, PAGE_SIZE, pager.offset
            )
            types = await block_types.filter_block_types(connection, EVERY_BLOCK_TYPE, MAX_BLOCK_TYPES, 0)
        self.render_page(
            "blocks.html",
            title="Blocks",
            documents=documents,
            pager=pager,
            block_types=types,
            type_slug=type_slug,
            search=search,
        )


class BlockCatalogPageHandler(BlockPageHandler):
    permission = "block:read"

    async def get(self) -> None:
        async with self.database.read() as connection:
            types = await block_types.filter_block_types(connection, EVERY_BLOCK_TYPE, MAX_BLOCK_TYPES, 0)
            counts = await block_summaries.count_named_documents_by_block_type(connection)
        self.render_page("block_catalog.html", title="Block catalogue", block_types=types, counts=counts)


class NewBlockPageHandler(BlockPageHandler):
    permission = "block:write"

    async def get(self) -> None:
        slug = self.get_query_argument("type", "")
        async with self.database.read() as connection:
            block_type = await block_types.read_block_type_by_slug(connection, slug) if slug else None
            if block_type is None:
                raise ObjectNotFound(f"There is no block type {slug!r}; choose one from the catalogue.")
            schema = await block_summaries.read_newest_block_schema(connection, block_type["id"])
        if schema is None:
            raise ObjectNotFound(f"The block type {block_type['name']!r} has no schema to create a block from.")
        self.render_page(
            "block_form.html",
            title=f"New {block_type['name']} block",
            block_type=block_type,
            schema=schema,
            document=None,
            fields=form_fields(schema["fields"], None),
        )


class BlockDocumentPageHandler(BlockPageHandler):
    permission = "block:read"

    async def get(self, block_document_id: str) -> None:
        document = await self.read_document(block_document_id)
        schema_fields = (document.get("block_schema") or {}).get("fields") or {}
        self.render_page(
            "block.html",
            title=document["name"],
            document=document,
            block_type=document["block_type"],
            values=field_values(schema_fields, document["data"]),
        )


class EditBlockPageHandler(BlockPageHandler):
    permission = "block:write"

    async def get(self, block_document_id: str) -> None:
        document = await self.read_document(block_document_id)
        schema = document.get("block_schema") or {"fields": {}, "id": document["block_schema_id"]}
        self.render_page(
            "block_form.html",
            title=f"Edit {document['name']}",
            block_type=document["block_type"],
            schema=schema,
            document=document,
            fields=form_fields(schema.get("fields") or {}, document["data"]),
        )


routes = [
    (r"/blocks/?", BlocksPageHandler),
    (r"/blocks/catalog/?", BlockCatalogPageHandler),
    (r"/blocks/new/?", NewBlockPageHandler),
    (r"/blocks/(?P<block_document_id>[^/]+)/edit/?", EditBlockPageHandler),
    (r"/blocks/(?P<block_document_id>[^/]+)/?", BlockDocumentPageHandler),
]

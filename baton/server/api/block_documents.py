"""`/block_documents`: create, read, update (merge or replace), delete, filter and count block documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from baton.errors import ObjectNotFound, PermissionDenied
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.blocks.encryption import BlockCipher
from baton.server.models.blocks import block_documents
from baton.server.schemas.block_filters import BlockDocumentCountRequest, BlockDocumentFilterRequest
from baton.server.schemas.blocks import BlockDocument, BlockDocumentCreate, BlockDocumentUpdate

INCLUDE_SECRETS_QUERY = {"include_secrets": "true to show secret values instead of ********"}
#: What a caller needs beyond `block:read` to see secret values.
SECRETS_PERMISSION = "block:secrets"
SECRETS_ACTION = "block.read_secrets"


class BlockDocumentApiHandler(ApiHandler):
    """A handler that reads or writes block document data, so needs the server's encryption key."""

    def cipher(self) -> BlockCipher:
        """A cipher for this request, keyed by BATON_SERVER_ENCRYPTION_KEY or the key stored in the database."""
        return BlockCipher(self.context.settings.server_encryption_key)

    def secrets_wanted(self, include_secrets: bool) -> bool:
        """`include_secrets` once the caller may see secret values; PermissionDenied (an audited refusal) otherwise."""
        if include_secrets and not self.principal.may(SECRETS_PERMISSION):
            self._record_secrets_read(outcome="denied", status_code=403)
            raise PermissionDenied(
                f"Secret values (include_secrets=true) need the permission {SECRETS_PERMISSION!r}, which the role "
                f"{self.principal.role!r} of {self.principal.kind.replace('_', ' ')} {self.principal.name!r} does "
                "not grant; read without include_secrets to get the document with its secrets masked."
            )
        return include_secrets

    def audit_secrets_read(self, documents: Iterable[Mapping[str, Any]]) -> None:
        """One audit entry per document whose secret values this request answers with (never the values)."""
        for document in documents:
            self._record_secrets_read(
                outcome="success", status_code=200, resource_id=str(document["id"]), resource_name=document.get("name")
            )

    def _record_secrets_read(
        self, *, outcome: str, status_code: int, resource_id: str | None = None, resource_name: str | None = None
    ) -> None:
        self.context.audit_log.record(
            self.principal,
            SECRETS_ACTION,
            outcome=outcome,
            status_code=status_code,
            resource_kind="block",
            resource_id=resource_id,
            resource_name=resource_name,
            address=self.request.remote_ip,
            workspace_id=self.context.workspace_id,
        )


class BlockDocumentsHandler(BlockDocumentApiHandler):
    permission = "block:write"

    @endpoint("Create a block document", body=BlockDocumentCreate, response=BlockDocument, status=201)
    async def post(self) -> None:
        document = self.parse_body(BlockDocumentCreate)
        async with self.database.write() as connection:
            row = await block_documents.create_block_document(connection, document, self.cipher())
        self.write_json(row, status=201)


class BlockDocumentHandler(BlockDocumentApiHandler):
    permission = {"GET": "block:read", "PATCH": "block:write", "DELETE": "block:write"}

    @endpoint("Read a block document", response=BlockDocument, query=INCLUDE_SECRETS_QUERY)
    async def get(self, block_document_id: str) -> None:
        document_id = self.path_uuid(block_document_id)
        include_secrets = self.secrets_wanted(self.query_bool("include_secrets"))
        async with self.database.read() as connection:
            row = await block_documents.read_block_document(
                connection, document_id, self.cipher(), include_secrets=include_secrets
            )
        if row is None:
            raise ObjectNotFound(f"Block document {block_document_id} not found.")
        if include_secrets:
            self.audit_secrets_read([row])
        self.write_json(row)

    @endpoint("Update a block document's data or schema", body=BlockDocumentUpdate, status=204)
    async def patch(self, block_document_id: str) -> None:
        document_id = self.path_uuid(block_document_id)
        update = self.parse_body(BlockDocumentUpdate)
        async with self.database.write() as connection:
            found = await block_documents.update_block_document(connection, document_id, update, self.cipher())
        if not found:
            raise ObjectNotFound(f"Block document {block_document_id} not found.")
        self.write_no_content()

    @endpoint("Delete a block document", status=204)
    async def delete(self, block_document_id: str) -> None:
        document_id = self.path_uuid(block_document_id)
        async with self.database.write() as connection:
            found = await block_documents.delete_block_document(connection, document_id)
        if not found:
            raise ObjectNotFound(f"Block document {block_document_id} not found.")
        self.write_no_content()


class BlockDocumentFilterHandler(BlockDocumentApiHandler):
    permission = "block:read"

    @endpoint(
        "Block documents matching a filter",
        body=BlockDocumentFilterRequest,
        response=list[BlockDocument],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(BlockDocumentFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        self.secrets_wanted(request.include_secrets)
        async with self.database.read() as connection:
            rows = await block_documents.filter_block_documents(connection, request, limit, self.cipher())
        if request.include_secrets:
            self.audit_secrets_read(rows)
        self.write_json(rows)


class BlockDocumentCountHandler(ApiHandler):
    permission = "block:read"

    @endpoint(
        "How many block documents match a filter", body=BlockDocumentCountRequest, response=int, optional_body=True
    )
    async def post(self) -> None:
        request = self.parse_body(BlockDocumentCountRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await block_documents.count_block_documents_matching(connection, request)
        self.write_json(count)


routes = [
    (r"/block_documents/?", BlockDocumentsHandler),
    (r"/block_documents/filter/?", BlockDocumentFilterHandler),
    (r"/block_documents/count/?", BlockDocumentCountHandler),
    (r"/block_documents/(?P<block_document_id>[^/]+)/?", BlockDocumentHandler),
]

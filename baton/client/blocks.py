"""Block types and block documents: typed, named configuration (credentials, webhooks) with encrypted secrets."""

from __future__ import annotations

from baton.client.base import BaseClient, JsonObject, path_part


class BlocksClient(BaseClient):
    def read_block_types(self, *, limit: int | None = None, offset: int = 0) -> list[JsonObject]:
        """Block types sorted by name."""
        body: JsonObject = {"limit": limit, "offset": offset}
        return self.request("POST", "/block_types/filter", json=body)

    def read_block_documents(
        self, *, block_type_slug: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[JsonObject]:
        """Named block documents sorted by type then name (secrets shown as ********), of one type if asked."""
        body: JsonObject = {"sort": "BLOCK_TYPE_AND_NAME_ASC", "limit": limit, "offset": offset}
        if block_type_slug is not None:
            body["block_types"] = {"slug": {"any_": [block_type_slug]}}
        return self.request("POST", "/block_documents/filter", json=body)

    def read_block_document(self, block_document_id: str) -> JsonObject:
        """The block document with that id (secrets shown as ********); ObjectNotFound if there is none."""
        return self.request("GET", f"/block_documents/{path_part(block_document_id)}")

    def read_block_document_by_name(self, block_type_slug: str, name: str) -> JsonObject:
        """The block document of that type and name (secrets shown as ********); ObjectNotFound if there is none."""
        path = f"/block_types/slug/{path_part(block_type_slug)}/block_documents/name/{path_part(name)}"
        return self.request("GET", path)

    def delete_block_document(self, block_document_id: str) -> None:
        """Delete a block document; ObjectNotFound if there is none."""
        self.request("DELETE", f"/block_documents/{path_part(block_document_id)}")

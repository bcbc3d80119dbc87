"""Filter bodies of `/block_types/filter`, `/block_schemas/filter`, `/block_documents/filter` and `/count`.

Field for field as Prefect's. `baton.server.models.filters.blocks` turns them into SQL. Unknown keys are a 422.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from baton.server.schemas.base import Limit, ListingModel, Offset
from baton.server.schemas.filters import FilterModel, IdAny, OperatorFilterModel, StringAny


class BlockDocumentSort(StrEnum):
    NAME_DESC = "NAME_DESC"
    NAME_ASC = "NAME_ASC"
    BLOCK_TYPE_AND_NAME_ASC = "BLOCK_TYPE_AND_NAME_ASC"


class BlockTypeFilterName(FilterModel):
    like_: str | None = None


class BlockTypeFilter(FilterModel):
    name: BlockTypeFilterName | None = None
    slug: StringAny | None = None


class BlockSchemaFilterCapabilities(FilterModel):
    all_: list[str] | None = None


class BlockSchemaFilter(OperatorFilterModel):
    block_type_id: IdAny | None = None
    block_capabilities: BlockSchemaFilterCapabilities | None = None
    id: IdAny | None = None
    version: StringAny | None = None


class BlockDocumentFilterIsAnonymous(FilterModel):
    eq_: bool | None = None


class BlockDocumentFilterName(FilterModel):
    any_: list[str] | None = None
    like_: str | None = None


class BlockDocumentFilter(OperatorFilterModel):
    """Anonymous documents are left out unless `is_anonymous` says otherwise (`null` includes them)."""

    id: IdAny | None = None
    is_anonymous: BlockDocumentFilterIsAnonymous | None = Field(
        default_factory=lambda: BlockDocumentFilterIsAnonymous(eq_=False)
    )
    block_type_id: IdAny | None = None
    name: BlockDocumentFilterName | None = None


class BlockTypeFilterRequest(ListingModel):
    block_types: BlockTypeFilter | None = None
    block_schemas: BlockSchemaFilter | None = None
    limit: Limit | None = None
    offset: Offset = 0


class BlockSchemaFilterRequest(ListingModel):
    block_schemas: BlockSchemaFilter | None = None
    limit: Limit | None = None
    offset: Offset = 0


class BlockDocumentCountRequest(ListingModel):
    """Which block documents to count; a missing `block_documents` filter still leaves out anonymous ones."""

    block_documents: BlockDocumentFilter = Field(default_factory=BlockDocumentFilter)
    block_types: BlockTypeFilter | None = None
    block_schemas: BlockSchemaFilter | None = None


class BlockDocumentFilterRequest(BlockDocumentCountRequest):
    include_secrets: bool = False
    sort: BlockDocumentSort = BlockDocumentSort.NAME_ASC
    limit: Limit | None = None
    offset: Offset = 0
    # Sent by the Prefect client's `read_block_documents` and ignored by Prefect's server; accepted for the same reason.
    block_schema_type: str | None = None

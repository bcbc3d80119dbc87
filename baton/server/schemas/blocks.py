"""Block types, block schemas and block documents: the request bodies and the response shapes (as Prefect 3's)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from baton.server.schemas.base import ActionModel, ApiModel, Name, ObjectModel

# The version a block schema gets when its block class does not say (Prefect's default).
DEFAULT_BLOCK_SCHEMA_VERSION = "non-versioned"
_SLUG_CHARACTERS = re.compile(r"^[a-z0-9-]*$")


def _lowercase_dashes(what: str) -> Any:
    def check(value: str) -> str:
        if not _SLUG_CHARACTERS.match(value):
            raise ValueError(f"{what} must only contain lowercase letters, numbers, and dashes.")
        return value

    return AfterValidator(check)


BlockTypeSlug = Annotated[str, Field(min_length=1, max_length=255), _lowercase_dashes("Block type slug")]
BlockDocumentName = Annotated[Name, _lowercase_dashes("Block document name")]


# --- responses -----------------------------------------------------------------------------------------------------


class BlockType(ObjectModel):
    name: str
    slug: str
    logo_url: str | None = None
    documentation_url: str | None = None
    description: str | None = None
    code_example: str | None = None
    is_protected: bool = False


class BlockSchema(ObjectModel):
    checksum: str
    fields: dict[str, Any] = Field(default_factory=dict)
    block_type_id: uuid.UUID | None = None
    block_type: BlockType | None = None
    capabilities: list[str] = Field(default_factory=list)
    version: str = DEFAULT_BLOCK_SCHEMA_VERSION


class BlockDocument(ObjectModel):
    name: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    block_schema_id: uuid.UUID
    block_schema: BlockSchema | None = None
    block_type_id: uuid.UUID
    block_type_name: str | None = None
    block_type: BlockType | None = None
    block_document_references: dict[str, dict[str, Any]] = Field(default_factory=dict)
    is_anonymous: bool = False


# --- request bodies ------------------------------------------------------------------------------------------------


class BlockTypeCreate(ActionModel):
    name: Name
    slug: BlockTypeSlug
    logo_url: str | None = None
    documentation_url: str | None = None
    description: str | None = None
    code_example: str | None = None


class BlockTypeUpdate(ActionModel):
    logo_url: str | None = None
    documentation_url: str | None = None
    description: str | None = None
    code_example: str | None = None


class BlockSchemaCreate(ActionModel):
    fields: dict[str, Any] = Field(default_factory=dict)
    block_type_id: uuid.UUID
    capabilities: list[str] = Field(default_factory=list)
    version: str = Field(default=DEFAULT_BLOCK_SCHEMA_VERSION, min_length=1, max_length=255)


class BlockDocumentCreate(ActionModel):
    """A new block document; anonymous documents need no name (the server makes one up)."""

    name: BlockDocumentName | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    block_schema_id: uuid.UUID
    block_type_id: uuid.UUID
    is_anonymous: bool = False

    @model_validator(mode="after")
    def _named_unless_anonymous(self) -> BlockDocumentCreate:
        if not self.is_anonymous and not self.name:
            raise ValueError("Names must be provided for block documents.")
        return self


class BlockDocumentUpdate(ActionModel):
    """New data for a block document: merged into the stored data (the default) or replacing it."""

    block_schema_id: uuid.UUID | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    merge_existing_data: bool = True


class ServerDefaultResultStorage(ApiModel):
    """The block document flows and tasks write their results to when they name no storage; None: local files."""

    default_result_storage_block_id: uuid.UUID | None = None


class ServerDefaultResultStorageUpdate(ActionModel):
    default_result_storage_block_id: uuid.UUID

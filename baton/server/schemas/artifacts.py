"""Artifacts and artifact collections (the latest artifact of each key): bodies, responses, filters and sorts."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from baton.server.schemas.base import ActionModel, Limit, ListingModel, ObjectModel, Offset
from baton.server.schemas.filters import (
    DeploymentFilter,
    FilterModel,
    FlowFilter,
    FlowRunFilter,
    IdAny,
    OperatorFilterModel,
    TaskRunFilter,
)

# Column widths of the artifact tables.
MAX_ARTIFACT_KEY_LENGTH = 255
MAX_ARTIFACT_TYPE_LENGTH = 50
# Prefect shortens each metadata value to this many characters (plus "...") rather than refusing it.
MAX_METADATA_VALUE_LENGTH = 500
_ARTIFACT_KEY = re.compile(r"[a-z0-9-]+")


def _check_artifact_key(value: str) -> str:
    if not _ARTIFACT_KEY.fullmatch(value):
        raise ValueError(f"Artifact key {value!r} is not allowed: use only lowercase letters, digits and dashes")
    return value


def _shorten_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {
        key: text if len(text) <= MAX_METADATA_VALUE_LENGTH else text[:MAX_METADATA_VALUE_LENGTH] + "..."
        for key, text in value.items()
    }


ArtifactKey = Annotated[
    str, Field(min_length=1, max_length=MAX_ARTIFACT_KEY_LENGTH), AfterValidator(_check_artifact_key)
]
Metadata = Annotated[dict[str, str] | None, AfterValidator(_shorten_metadata)]


class ArtifactCreate(ActionModel):
    """`type` is free text; the SDK uses markdown, table, link, progress, image and result."""

    key: ArtifactKey | None = None
    type: str | None = Field(None, max_length=MAX_ARTIFACT_TYPE_LENGTH)
    description: str | None = None
    data: Any = None
    metadata_: Metadata = None
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None


class ArtifactUpdate(ActionModel):
    """Only the fields present change (a null clears the field)."""

    data: Any = None
    description: str | None = None
    metadata_: Metadata = None


class Artifact(ObjectModel):
    key: str | None = None
    type: str | None = None
    description: str | None = None
    data: Any = None
    metadata_: dict[str, str] | None = None
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None


class ArtifactCollection(Artifact):
    """The latest artifact of one key; `id` is the collection's own, `latest_id` the artifact's."""

    key: str
    latest_id: uuid.UUID


# Fields an artifact collection copies from the latest artifact of its key.
ARTIFACT_FIELDS = ("key", "type", "description", "data", "metadata_", "flow_run_id", "task_run_id")


class ArtifactSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    ID_DESC = "ID_DESC"
    KEY_DESC = "KEY_DESC"
    KEY_ASC = "KEY_ASC"


# --- filters --------------------------------------------------------------------------------------------------------


class ArtifactFilterKey(FilterModel):
    """`like_` is a case-insensitive substring in which SQL wildcards keep their meaning; `exists_` is whether the
    artifact has a key at all."""

    any_: list[str] | None = None
    like_: str | None = None
    exists_: bool | None = None


class ArtifactFilterType(FilterModel):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class ArtifactFilter(OperatorFilterModel):
    id: IdAny | None = None
    key: ArtifactFilterKey | None = None
    flow_run_id: IdAny | None = None
    task_run_id: IdAny | None = None
    type: ArtifactFilterType | None = None


class ArtifactCollectionFilter(OperatorFilterModel):
    latest_id: IdAny | None = None
    key: ArtifactFilterKey | None = None
    flow_run_id: IdAny | None = None
    task_run_id: IdAny | None = None
    type: ArtifactFilterType | None = None


class ArtifactRelatedFilters(ListingModel):
    """Filters on the runs an artifact belongs to: a present run filter keeps only artifacts whose run matches."""

    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    flows: FlowFilter | None = None
    deployments: DeploymentFilter | None = None


class ArtifactFilterRequest(ArtifactRelatedFilters):
    """The body of `/artifacts/filter` and `/artifacts/count` (the latter ignores sort and paging)."""

    artifacts: ArtifactFilter | None = None
    sort: ArtifactSort = ArtifactSort.ID_DESC
    limit: Limit | None = None
    offset: Offset = 0


class ArtifactCollectionFilterRequest(ArtifactRelatedFilters):
    """The body of `/artifacts/latest/filter` and `/artifacts/latest/count`."""

    artifacts: ArtifactCollectionFilter | None = None
    sort: ArtifactSort = ArtifactSort.ID_DESC
    limit: Limit | None = None
    offset: Offset = 0

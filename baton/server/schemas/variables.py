"""Variables: the create and update bodies, the response object, and the filter, sort and request bodies."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, Field

from baton.server.schemas.base import ActionModel, Limit, ListingModel, ObjectModel, Offset
from baton.server.schemas.filters import FilterModel, OperatorFilterModel, TagsAllNull

# Prefect's limits: names fit the 255-character column, and values stay small enough to inline into parameters.
MAX_VARIABLE_NAME_LENGTH = 255
MAX_VARIABLE_VALUE_LENGTH = 5000
_VARIABLE_NAME = re.compile(r"[a-z0-9_-]+")


def _check_variable_name(value: str) -> str:
    if not _VARIABLE_NAME.fullmatch(value):
        raise ValueError(
            f"Variable name {value!r} is not allowed: use only lowercase letters, digits, dashes and underscores"
        )
    return value


def _check_variable_value(value: Any) -> Any:
    # Measured as serialised JSON, as Prefect does; a request body is JSON already, so encoding cannot fail.
    size = len(orjson.dumps(value))
    if size > MAX_VARIABLE_VALUE_LENGTH:
        raise ValueError(
            f"Variable value is {size} characters long as JSON; at most {MAX_VARIABLE_VALUE_LENGTH} are allowed"
        )
    return value


VariableName = Annotated[
    str, Field(min_length=1, max_length=MAX_VARIABLE_NAME_LENGTH), AfterValidator(_check_variable_name)
]
VariableValue = Annotated[Any, AfterValidator(_check_variable_value)]


class VariableCreate(ActionModel):
    name: VariableName
    value: VariableValue
    tags: list[str] = Field(default_factory=list)


class VariableUpdate(ActionModel):
    """Only the fields present change; a null name or tags list means "leave as is", a null value sets null."""

    name: VariableName | None = None
    value: VariableValue = None
    tags: list[str] | None = None


class Variable(ObjectModel):
    name: str
    value: Any = None
    tags: list[str] = Field(default_factory=list)


class VariableSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_DESC = "NAME_DESC"
    NAME_ASC = "NAME_ASC"


class VariableFilterId(FilterModel):
    any_: list[uuid.UUID] | None = None


class VariableFilterName(FilterModel):
    """`like_` is a case-insensitive substring in which SQL wildcards (`%`, `_`) keep their meaning, as in Prefect."""

    any_: list[str] | None = None
    like_: str | None = None


class VariableFilter(OperatorFilterModel):
    id: VariableFilterId | None = None
    name: VariableFilterName | None = None
    tags: TagsAllNull | None = None


class VariableFilterRequest(ListingModel):
    """The body of `/variables/filter` and `/variables/count` (the latter ignores sort and paging)."""

    variables: VariableFilter | None = None
    sort: VariableSort = VariableSort.NAME_ASC
    limit: Limit | None = None
    offset: Offset = 0

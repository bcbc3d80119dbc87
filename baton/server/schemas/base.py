"""Base classes and field types shared by Baton's API schemas."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

# Characters that would break URLs or the UI when they appear in an object's name (Prefect refuses the same).
BANNED_NAME_CHARACTERS = "/%&><"
_BANNED = re.compile(f"[{re.escape(BANNED_NAME_CHARACTERS)}]")


def _check_name(value: str) -> str:
    if _BANNED.search(value):
        raise ValueError(
            f"Name {value!r} contains an invalid character; these are not allowed: {BANNED_NAME_CHARACTERS}"
        )
    return value


# Paging bounds, the same on every database: (page - 1) * limit and offset + limit stay far inside a signed 64-bit
# integer (SQLite's limit; PostgreSQL refuses larger values with its own error, SQLite overflows).
MAX_OFFSET = 2**53
MAX_PAGE = 10**9
# Strict: "5" or 5.0 is a 422, as a JSON client sends a number. The upper bound of a limit is a setting
# (`server_api_default_limit`, checked by the handler and written into the OpenAPI document by api/docs.py).
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, strict=True)]
Page = Annotated[int, Field(ge=1, le=MAX_PAGE, strict=True)]
PAGE_SIZE_MARK = "x-baton-page-size"
Limit = Annotated[int, Field(ge=0, strict=True, json_schema_extra={PAGE_SIZE_MARK: True})]

Name = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_check_name)]
Labels = dict[str, str | int | float | bool]


# Every schema base sets `defer_build=True`: pydantic builds a model's validator and serializer on its first use
# rather than at import, so a process pays only for the schemas it uses (the services never parse most request
# bodies, an idle server none).


class ApiModel(BaseModel):
    """A response object: extra keys ignored, timedeltas as float seconds (as the Prefect client expects)."""

    model_config = ConfigDict(defer_build=True, extra="ignore", ser_json_timedelta="float", populate_by_name=True)


class ActionModel(BaseModel):
    """A request body: an unknown field is a 422, so that typos are not silently ignored; so is an infinite or NaN
    number (JSON has none, but lax parsing would take the strings "inf" and "nan")."""

    model_config = ConfigDict(defer_build=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)


class ListingModel(BaseModel):
    """A filter, count, paginate or listing body, read as Prefect's server reads one (each key a FastAPI body
    parameter): unknown keys are ignored and a null means the field's default (a required field sent as null is
    missing). The filters inside keep refusing unknown keys."""

    model_config = ConfigDict(defer_build=True, extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class ObjectModel(ApiModel):
    """Every stored object: id, created, updated."""

    id: uuid.UUID
    created: dt.datetime | None = None
    updated: dt.datetime | None = None


def utc(value: dt.datetime) -> dt.datetime:
    """`value` as an aware UTC datetime (naive input is taken to be UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def jsonable(value: Any) -> Any:
    """`value` with pydantic models turned into plain JSON-compatible data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value

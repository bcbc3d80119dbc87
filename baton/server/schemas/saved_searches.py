"""Saved searches: a named set of filters (Prefect's UI and Baton's Runs page keep theirs here)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from baton.server.schemas.base import ActionModel, Limit, ListingModel, ObjectModel, Offset

# The name column's size.
MAX_SAVED_SEARCH_NAME_LENGTH = 255
# A saved search is a handful of filters; this bound keeps one row small.
MAX_SAVED_SEARCH_FILTERS = 100


class SavedSearchFilter(ActionModel):
    """One filter: on `object`'s `property` (of `type`), apply `operation` with `value`."""

    object: str = Field(max_length=255)
    property: str = Field(max_length=255)
    type: str = Field(max_length=255)
    operation: str = Field(max_length=255)
    value: Any


class SavedSearchCreate(ActionModel):
    """Body of `PUT /saved_searches/`: a search of an existing name has its filters replaced."""

    name: str = Field(min_length=1, max_length=MAX_SAVED_SEARCH_NAME_LENGTH)
    filters: list[SavedSearchFilter] = Field(default_factory=list, max_length=MAX_SAVED_SEARCH_FILTERS)


class SavedSearch(ObjectModel):
    name: str
    filters: list[SavedSearchFilter] = Field(default_factory=list)


class SavedSearchFilterRequest(ListingModel):
    """Body of `POST /saved_searches/filter`: saved searches by name, a page of them."""

    limit: Limit | None = None
    offset: Offset = 0

"""The event filter of the Prefect 3 events API, the request bodies that carry it, and its meaning in Python.

`models.event_queries` turns a filter into SQL for the REST endpoints and the websocket backfill; `matches` applies
the same filter to one event in memory, for the live stream. Label values are glob patterns (`*`, `?`) and a leading
`!` negates one; a label the resource does not have matches no pattern, negated or not.
"""

from __future__ import annotations

import datetime as dt
import enum
import fnmatch
import functools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from baton.server.schemas.base import ListingModel, utc
from baton.server.schemas.events import RESOURCE_ID, RESOURCE_ROLE

# Prefect's default look-back when a filter gives no `occurred.since`: 180 days before the start of today.
DEFAULT_LOOKBACK_DAYS = 180
# POST /events/filter returns at most this many events per page (Prefect's INTERACTIVE_PAGE_SIZE).
INTERACTIVE_PAGE_SIZE = 50
# A text search query is short; Prefect refuses longer ones too.
MAX_TEXT_QUERY_LENGTH = 200
# Prefect refuses a count-by that would make more buckets than this (a chart cannot show them anyway).
MAX_COUNT_BUCKETS = 1000
MIN_TIME_INTERVAL = 0.01

Event = Mapping[str, Any]
ResourceSpecification = dict[str, str | list[str]]


def _default_since() -> dt.datetime:
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=DEFAULT_LOOKBACK_DAYS)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class EventFilterPart(BaseModel):
    """One criterion group of an event filter; unknown keys are refused, as Prefect does."""

    model_config = ConfigDict(defer_build=True, extra="forbid")


class EventOccurredFilter(EventFilterPart):
    since: dt.datetime = Field(default_factory=_default_since)
    until: dt.datetime = Field(default_factory=_now)

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return utc(value)


class EventNameFilter(EventFilterPart):
    prefix: list[str] | None = None
    exclude_prefix: list[str] | None = None
    name: list[str] | None = None
    exclude_name: list[str] | None = None


class EventResourceFilter(EventFilterPart):
    id: list[str] | None = None
    id_prefix: list[str] | None = None
    labels: ResourceSpecification | None = None
    #: One event per resource (its first in the filter's order); the total counts resources.
    distinct: bool = False


class EventRelatedFilter(EventFilterPart):
    """Criteria that one and the same related resource must meet."""

    id: list[str] | None = None
    role: list[str] | None = None
    resources_in_roles: list[tuple[str, str]] | None = None
    labels: ResourceSpecification | None = None


class EventAnyResourceFilter(EventFilterPart):
    """Criteria that one resource of the event, primary or related, must meet."""

    id: list[str] | None = None
    id_prefix: list[str] | None = None
    labels: ResourceSpecification | None = None


class EventIDFilter(EventFilterPart):
    id: list[uuid.UUID] | None = None


class EventTextFilter(EventFilterPart):
    """Words found in the event name, its resources' labels or its payload (case-insensitive): any plain word,
    none of the `-word` (or `!word`), every `+word`; "quoted phrases" are one word."""

    query: str = Field(max_length=MAX_TEXT_QUERY_LENGTH)


class EventOrder(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class EventFilter(EventFilterPart):
    occurred: EventOccurredFilter = Field(default_factory=EventOccurredFilter)
    event: EventNameFilter | None = None
    resource: EventResourceFilter | None = None
    related: EventRelatedFilter | list[EventRelatedFilter] | None = None
    any_resource: EventAnyResourceFilter | list[EventAnyResourceFilter] | None = None
    id: EventIDFilter = Field(default_factory=EventIDFilter)
    text: EventTextFilter | None = None
    order: EventOrder = EventOrder.DESC

    @property
    def related_filters(self) -> list[EventRelatedFilter]:
        """`related` as a list; each entry must hold (for some related resource) on its own."""
        return _as_list(self.related)

    @property
    def any_resource_filters(self) -> list[EventAnyResourceFilter]:
        return _as_list(self.any_resource)


class EventFilterRequest(ListingModel):
    """Body of POST /events/filter."""

    filter: EventFilter | None = None
    limit: int = Field(INTERACTIVE_PAGE_SIZE, ge=0, le=INTERACTIVE_PAGE_SIZE)


class TimeUnit(enum.StrEnum):
    week = "week"
    day = "day"
    hour = "hour"
    minute = "minute"
    second = "second"

    def span(self, interval: float) -> dt.timedelta:
        """The length of one bucket of `interval` units."""
        unit = dt.timedelta(weeks=1) if self is TimeUnit.week else dt.timedelta(**{f"{self.value}s": 1})
        return unit * interval


class Countable(enum.StrEnum):
    day = "day"
    time = "time"
    event = "event"
    resource = "resource"


class EventCountRequest(ListingModel):
    """Body of POST /events/count-by/{countable}; the bucket size only matters for `time`."""

    filter: EventFilter = Field(default_factory=EventFilter)
    time_unit: TimeUnit = TimeUnit.day
    time_interval: float = Field(1.0, ge=MIN_TIME_INTERVAL)


class EventCount(BaseModel):
    """One group of a count-by: `value` identifies it in a filter, `label` is for display."""

    value: str
    label: str
    count: int
    start_time: dt.datetime
    end_time: dt.datetime


class EventPage(BaseModel):
    events: list[dict[str, Any]]
    total: int
    next_page: str | None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- text search terms ----------------------------------------------------------------------------------------------

_SEARCH_TERM = re.compile(r'([-!+]?)(?:"((?:[^"\\]|\\.)*)"?|(\S+))')


def text_terms(query: str) -> tuple[list[str], list[str], list[str]]:
    """The (any-of, none-of, all-of) terms of a text search query, lower-cased."""
    include: list[str] = []
    exclude: list[str] = []
    required: list[str] = []
    for prefix, phrase, word in _SEARCH_TERM.findall(query):
        term = (phrase.replace('\\"', '"') if phrase else word).lower()
        if not term:
            continue
        {"-": exclude, "!": exclude, "+": required}.get(prefix, include).append(term)
    return include, exclude, required


def label_patterns(value: str | list[str]) -> list[str]:
    """A label's expected value(s) as a list of patterns."""
    return [value] if isinstance(value, str) else list(value)


# --- matching one event in memory -----------------------------------------------------------------------------------


def matches(spec: EventFilter, event: Event) -> bool:
    """Whether `event` (a received event in wire shape, as `models.events.event_from_row` makes it) passes `spec`;
    the same rules as the SQL of `models.event_queries`."""
    occurred = event["occurred"]
    if not isinstance(occurred, dt.datetime):
        occurred = dt.datetime.fromisoformat(str(occurred))
    if not spec.occurred.since <= utc(occurred) <= spec.occurred.until:
        return False
    if spec.id.id and uuid.UUID(str(event["id"])) not in spec.id.id:
        return False
    if spec.event is not None and not _name_matches(spec.event, event["event"]):
        return False
    resource: Mapping[str, str] = event["resource"]
    related: list[Mapping[str, str]] = event.get("related") or []
    if spec.resource is not None and not _resource_matches(spec.resource, resource):
        return False
    for related_spec in spec.related_filters:
        if _is_empty(related_spec):
            continue
        if not any(_related_matches(related_spec, labels) for labels in related):
            return False
    for any_spec in spec.any_resource_filters:
        if not any(_any_resource_matches(any_spec, labels) for labels in [resource, *related]):
            return False
    return spec.text is None or _text_matches(spec.text.query, event)


def _name_matches(spec: EventNameFilter, name: str) -> bool:
    if spec.prefix and not any(name.startswith(prefix) for prefix in spec.prefix):
        return False
    if spec.exclude_prefix and any(name.startswith(prefix) for prefix in spec.exclude_prefix):
        return False
    if spec.name and name not in spec.name:
        return False
    return not (spec.exclude_name and name in spec.exclude_name)


def _resource_matches(spec: EventResourceFilter, resource: Mapping[str, str]) -> bool:
    resource_id = resource.get(RESOURCE_ID, "")
    if spec.id and resource_id not in spec.id:
        return False
    if spec.id_prefix and not any(resource_id.startswith(prefix) for prefix in spec.id_prefix):
        return False
    return not spec.labels or _labels_match(spec.labels, resource)


def _is_empty(spec: EventRelatedFilter) -> bool:
    return not (spec.id or spec.role or spec.resources_in_roles or spec.labels)


def _related_matches(spec: EventRelatedFilter, labels: Mapping[str, str]) -> bool:
    resource_id, role = labels.get(RESOURCE_ID), labels.get(RESOURCE_ROLE)
    if spec.id and resource_id not in spec.id:
        return False
    if spec.role and role not in spec.role:
        return False
    if spec.resources_in_roles and (resource_id, role) not in {tuple(pair) for pair in spec.resources_in_roles}:
        return False
    if spec.labels:
        labels_spec = dict(spec.labels)
        roles = labels_spec.pop(RESOURCE_ROLE, None)
        if roles and role not in label_patterns(roles):
            return False
        if not _labels_match(labels_spec, labels):
            return False
    return bool(role)


def _any_resource_matches(spec: EventAnyResourceFilter, labels: Mapping[str, str]) -> bool:
    resource_id = labels.get(RESOURCE_ID, "")
    if spec.id and resource_id not in spec.id:
        return False
    if spec.id_prefix and not any(resource_id.startswith(prefix) for prefix in spec.id_prefix):
        return False
    if spec.labels:
        labels_spec = dict(spec.labels)
        roles = labels_spec.pop(RESOURCE_ROLE, None)
        if roles and labels.get(RESOURCE_ROLE) not in label_patterns(roles):
            return False
        return _labels_match(labels_spec, labels)
    return True


def _labels_match(spec: Mapping[str, str | list[str]], labels: Mapping[str, str]) -> bool:
    return all(
        any(label_matches(pattern, labels.get(label)) for pattern in label_patterns(expected))
        for label, expected in spec.items()
    )


def label_matches(pattern: str, value: str | None) -> bool:
    """A glob `pattern` (negated by a leading `!`) against a label's value; a missing label never matches."""
    if value is None:
        return False
    negated = pattern.startswith("!")
    found = _glob_test(pattern.removeprefix("!"))(value)
    return found != negated


_GLOB_CHARACTERS = frozenset("*?[")


@functools.lru_cache(maxsize=1024)
def _glob_test(pattern: str) -> Callable[[str], bool]:
    """`fnmatch.fnmatchcase` against `pattern`, made once per pattern: plain text and `prefix*` (most label patterns;
    the trigger engine tests them for every event it counts) without a regular expression."""
    if _GLOB_CHARACTERS.isdisjoint(pattern):
        return lambda value: value == pattern
    prefix = pattern[:-1]
    if pattern.endswith("*") and _GLOB_CHARACTERS.isdisjoint(prefix):
        return lambda value: value.startswith(prefix)
    return lambda value: fnmatch.fnmatchcase(value, pattern)


def _text_matches(query: str, event: Event) -> bool:
    include, exclude, required = text_terms(query)
    searchable = " ".join(
        [event["event"], *(_json_text(event.get(key)) for key in ("resource", "related", "payload"))]
    ).lower()
    if include and not any(term in searchable for term in include):
        return False
    if any(term in searchable for term in exclude):
        return False
    return all(term in searchable for term in required)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)

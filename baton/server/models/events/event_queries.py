"""Reading events: an `EventFilter` as SQL, pages of events, counts by time bucket, name or resource, and the
recently recorded events that the live stream follows.

Related resources live in the JSON list `events.related`; a criterion on them is an EXISTS over that list's
elements, so that every part of one `related` filter holds for the same related resource (as Prefect's
event_resources join does).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect, dialect_of
from baton.server.database.types import utcnow
from baton.server.models.events.events import event_from_row
from baton.server.models.written_since import read_written_since
from baton.server.schemas.event_filters import (
    MAX_COUNT_BUCKETS,
    Countable,
    EventAnyResourceFilter,
    EventCount,
    EventFilter,
    EventNameFilter,
    EventOrder,
    EventRelatedFilter,
    EventResourceFilter,
    TimeUnit,
    label_patterns,
    text_terms,
)
from baton.server.schemas.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE

Condition = sa.ColumnElement[bool]
#: A resource's label by name, as a SQL expression (NULL when the resource has no such label).
LabelOf = Callable[[str], sa.ColumnElement[str]]

# Time buckets are counted from this Monday, as in Prefect, so that a bucket's edges do not depend on the query.
PIVOT = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
# The label Prefect falls back to for a resource with no prefect.resource.name.
LEGACY_NAME_LABEL = "prefect.name"
_LIKE_ESCAPES = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_", "*": "%", "?": "_"})


# --- pages and counts -----------------------------------------------------------------------------------------------


async def read_events(
    connection: AsyncConnection, spec: EventFilter, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """The events matching `spec` in its order (by occurred, then id), `limit` of them from `offset`."""
    events = t.events
    condition = event_condition(spec, dialect_of(connection))
    direction = sa.desc if spec.order is EventOrder.DESC else sa.asc
    if spec.resource is not None and spec.resource.distinct:
        first_of_resource = (
            sa.func.row_number()
            .over(partition_by=events.c.resource_id, order_by=[direction(events.c.occurred), direction(events.c.id)])
            .label("position_in_resource")
        )
        ranked = sa.select(events, first_of_resource).where(condition).subquery()
        query = sa.select(ranked).where(ranked.c.position_in_resource == 1)
        query = query.order_by(direction(ranked.c.occurred), direction(ranked.c.id))
    else:
        query = sa.select(events).where(condition).order_by(direction(events.c.occurred), direction(events.c.id))
    result = await connection.execute(query.limit(limit).offset(offset))
    return [event_from_row(row) for row in result.mappings()]


async def count_events(connection: AsyncConnection, spec: EventFilter) -> int:
    """How many events match `spec` (how many resources, for a `distinct` resource filter)."""
    events = t.events
    counted = (
        sa.func.count(sa.distinct(events.c.resource_id))
        if spec.resource is not None and spec.resource.distinct
        else sa.func.count()
    )
    query = sa.select(counted).select_from(events).where(event_condition(spec, dialect_of(connection)))
    return int(await connection.scalar(query) or 0)


async def read_event_page(
    connection: AsyncConnection, spec: EventFilter, limit: int, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """One page of the events matching `spec` and the total number that match."""
    return await read_events(connection, spec, limit, offset), await count_events(connection, spec)


async def count_events_by(
    connection: AsyncConnection,
    countable: Countable,
    spec: EventFilter,
    time_unit: TimeUnit = TimeUnit.day,
    time_interval: float = 1.0,
) -> list[EventCount]:
    """The matching events grouped by `countable`.

    `day` and `time` give one entry per bucket from `since` to `until` (or now), empty buckets included, oldest
    first; `event` and `resource` give one entry per name or resource, most events first. Raises ValidationFailed
    when the buckets would be more than MAX_COUNT_BUCKETS.
    """
    if countable in (Countable.day, Countable.time):
        if countable is Countable.day:
            time_unit, time_interval = TimeUnit.day, 1.0
        try:
            span = time_unit.span(time_interval)
            first_start = PIVOT + span * math.floor((spec.occurred.since - PIVOT) / span)
        except OverflowError as exc:
            raise ValidationFailed(
                f"Buckets of {time_interval:g} {time_unit.value}(s) from {spec.occurred.since.isoformat()} fall "
                "outside the dates that can be represented; use a shorter interval or a later start."
            ) from exc
        return await _count_by_time(connection, spec, span, first_start)
    return await _count_by_value(connection, countable, spec)


async def _count_by_time(
    connection: AsyncConnection, spec: EventFilter, span: dt.timedelta, first_start: dt.datetime
) -> list[EventCount]:
    since, until = spec.occurred.since, spec.occurred.until
    buckets = math.ceil((until - since) / span)
    if buckets > MAX_COUNT_BUCKETS:
        raise ValidationFailed(
            f"The given interval would create {buckets} buckets, which is too many. Increase the interval or "
            f"shorten the time range to produce {MAX_COUNT_BUCKETS} buckets or fewer."
        )
    dialect = dialect_of(connection)
    # Every matching event is at or after `first_start`, so truncating is flooring here.
    bucket = dialect.truncate_to_integer(
        dialect.seconds_since(t.events.c.occurred, first_start) / sa.literal(span.total_seconds(), sa.Float)
    )
    inner = sa.select(bucket.label("bucket")).where(event_condition(spec, dialect)).subquery()
    query = sa.select(inner.c.bucket, sa.func.count().label("events")).group_by(inner.c.bucket)
    counts = {int(row.bucket): int(row.events) for row in await connection.execute(query)}

    end = min(until, utcnow())
    spans: list[EventCount] = []
    start = first_start
    while start <= end:
        following = start + span
        index = len(spans)
        spans.append(
            EventCount(
                value=str(index),
                label=start.isoformat(),
                count=counts.get(index, 0),
                start_time=start,
                end_time=following - dt.timedelta(microseconds=1),
            )
        )
        start = following
    return spans


async def _count_by_value(connection: AsyncConnection, countable: Countable, spec: EventFilter) -> list[EventCount]:
    events = t.events
    dialect = dialect_of(connection)
    value: sa.ColumnElement[str]
    label: sa.ColumnElement[str]
    if countable is Countable.event:
        value, label = events.c.event, events.c.event
    else:
        value = events.c.resource_id
        label = sa.func.coalesce(
            dialect.json_object_text(events.c.resource, RESOURCE_NAME),
            dialect.json_object_text(events.c.resource, LEGACY_NAME_LABEL),
            events.c.resource_id,
        )
    inner = (
        sa.select(value.label("value"), label.label("label"), events.c.occurred)
        .where(event_condition(spec, dialect))
        .subquery()
    )
    query = sa.select(
        inner.c.value,
        inner.c.label,
        sa.func.count().label("events"),
        sa.func.min(inner.c.occurred).label("oldest"),
        sa.func.max(inner.c.occurred).label("latest"),
    ).group_by(inner.c.value, inner.c.label)

    # A resource's name can change between events: its entry is labelled with the name of its latest event.
    merged: dict[str, dict[str, Any]] = {}
    for row in await connection.execute(query):
        entry = merged.get(row.value)
        if entry is None:
            merged[row.value] = {"label": row.label, "count": row.events, "oldest": row.oldest, "latest": row.latest}
            continue
        if row.latest > entry["latest"]:
            entry["label"], entry["latest"] = row.label, row.latest
        entry["count"] += row.events
        entry["oldest"] = min(entry["oldest"], row.oldest)
    counts = [
        EventCount(
            value=value,
            label=entry["label"],
            count=int(entry["count"]),
            start_time=entry["oldest"],
            end_time=entry["latest"],
        )
        for value, entry in merged.items()
    ]
    return sorted(counts, key=lambda count: (-count.count, count.label))


# --- the live stream ------------------------------------------------------------------------------------------------


async def read_recorded_ids(
    connection: AsyncConnection,
    since: dt.datetime,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[uuid.UUID, dt.datetime]]:
    """(id, recorded) of events recorded at or after `since` and past the key `after`, in (recorded, id) order."""
    return await read_written_since(connection, t.events.c.id, t.events.c.recorded, since, after, limit)


async def read_events_by_id(connection: AsyncConnection, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The events with these ids, in the order they were recorded; the events of one batch (one `recorded` time) in
    the order they occurred, so that a run's Running event comes before its Completed one (the official client stops
    reading at a run's terminal event)."""
    if not ids:
        return []
    events = t.events
    query = sa.select(events).where(events.c.id.in_(ids)).order_by(events.c.recorded, events.c.occurred, events.c.id)
    return [event_from_row(row) for row in (await connection.execute(query)).mappings()]


# --- the filter as SQL ----------------------------------------------------------------------------------------------


def event_condition(spec: EventFilter, dialect: DatabaseDialect) -> Condition:
    """The WHERE condition over `events` for `spec`."""
    events = t.events.c
    parts: list[Condition] = [events.occurred >= spec.occurred.since, events.occurred <= spec.occurred.until]
    if spec.id.id:
        parts.append(events.id.in_(spec.id.id))
    if spec.event is not None:
        parts.extend(_name_conditions(spec.event))
    if spec.resource is not None:
        parts.extend(_resource_conditions(spec.resource, dialect))
    for related in spec.related_filters:
        parts.extend(_related_conditions(related, dialect))
    for any_resource in spec.any_resource_filters:
        parts.extend(_any_resource_conditions(any_resource, dialect))
    if spec.text is not None:
        parts.extend(_text_conditions(spec.text.query))
    return sa.and_(*parts)


def _name_conditions(spec: EventNameFilter) -> list[Condition]:
    name = t.events.c.event
    parts: list[Condition] = []
    if spec.prefix:
        parts.append(sa.or_(*(name.startswith(prefix, autoescape=True) for prefix in spec.prefix)))
    if spec.exclude_prefix:
        parts.extend(sa.not_(name.startswith(prefix, autoescape=True)) for prefix in spec.exclude_prefix)
    if spec.name:
        parts.append(name.in_(spec.name))
    if spec.exclude_name:
        parts.append(name.not_in(spec.exclude_name))
    return parts


def _resource_conditions(spec: EventResourceFilter, dialect: DatabaseDialect) -> list[Condition]:
    events = t.events.c
    parts: list[Condition] = []
    if spec.id:
        parts.append(events.resource_id.in_(spec.id))
    if spec.id_prefix:
        parts.append(sa.or_(*(events.resource_id.startswith(prefix, autoescape=True) for prefix in spec.id_prefix)))
    if spec.labels:
        parts.extend(_label_conditions(spec.labels, lambda key: dialect.json_object_text(events.resource, key)))
    return parts


def _related_conditions(spec: EventRelatedFilter, dialect: DatabaseDialect) -> list[Condition]:
    if not (spec.id or spec.role or spec.resources_in_roles or spec.labels):
        return []
    element = dialect.json_array_elements(t.events.c.related)

    def label(key: str) -> sa.ColumnElement[str]:
        return dialect.json_object_text(element.c.value, key)

    resource_id, role = label(RESOURCE_ID), label(RESOURCE_ROLE)
    parts: list[Condition] = [sa.func.coalesce(role, "") != ""]
    if spec.id:
        parts.append(resource_id.in_(spec.id))
    if spec.role:
        parts.append(role.in_(spec.role))
    if spec.resources_in_roles:
        parts.append(sa.or_(*(sa.and_(resource_id == rid, role == rrole) for rid, rrole in spec.resources_in_roles)))
    if spec.labels:
        labels = dict(spec.labels)
        if roles := labels.pop(RESOURCE_ROLE, None):
            parts.append(role.in_(label_patterns(roles)))
        parts.extend(_label_conditions(labels, label))
    return [sa.exists(sa.select(sa.literal(1)).select_from(element).where(*parts))]


def _any_resource_conditions(spec: EventAnyResourceFilter, dialect: DatabaseDialect) -> list[Condition]:
    if not (spec.id or spec.id_prefix or spec.labels):
        return []
    events = t.events.c
    element = dialect.json_array_elements(events.related)
    on_primary = _one_resource(spec, lambda key: dialect.json_object_text(events.resource, key))
    on_related = _one_resource(spec, lambda key: dialect.json_object_text(element.c.value, key))
    return [sa.or_(on_primary, sa.exists(sa.select(sa.literal(1)).select_from(element).where(on_related)))]


def _one_resource(spec: EventAnyResourceFilter, label: LabelOf) -> Condition:
    resource_id = label(RESOURCE_ID)
    parts: list[Condition] = []
    if spec.id:
        parts.append(resource_id.in_(spec.id))
    if spec.id_prefix:
        parts.append(sa.or_(*(resource_id.startswith(prefix, autoescape=True) for prefix in spec.id_prefix)))
    if spec.labels:
        labels = dict(spec.labels)
        if roles := labels.pop(RESOURCE_ROLE, None):
            parts.append(label(RESOURCE_ROLE).in_(label_patterns(roles)))
        parts.extend(_label_conditions(labels, label))
    return sa.and_(*parts)


def _label_conditions(labels: dict[str, str | list[str]], label: LabelOf) -> list[Condition]:
    """One condition per label: its value matches one of the patterns (an empty list matches nothing)."""
    parts: list[Condition] = []
    for key, expected in labels.items():
        patterns = label_patterns(expected)
        column = label(key)
        parts.append(sa.or_(*(_like(column, pattern) for pattern in patterns)) if patterns else sa.false())
    return parts


def _like(column: sa.ColumnElement[str], pattern: str) -> Condition:
    """A glob pattern (`*`, `?`; negated by a leading `!`) as LIKE. A missing label (NULL) matches neither way."""
    like = column.like(pattern.removeprefix("!").translate(_LIKE_ESCAPES), escape="\\")
    return sa.and_(column.is_not(None), sa.not_(like)) if pattern.startswith("!") else like


def _text_conditions(query: str) -> list[Condition]:
    include, exclude, required = text_terms(query)
    events = t.events.c
    searchable = sa.func.lower(
        events.event
        + " "
        + sa.cast(events.resource, sa.Text)
        + " "
        + sa.cast(events.related, sa.Text)
        + " "
        + sa.cast(events.payload, sa.Text)
    )
    parts: list[Condition] = []
    if include:
        parts.append(sa.or_(*(searchable.contains(term, autoescape=True) for term in include)))
    parts.extend(sa.not_(searchable.contains(term, autoescape=True)) for term in exclude)
    parts.extend(searchable.contains(term, autoescape=True) for term in required)
    return parts

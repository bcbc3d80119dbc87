"""Queries of the UI's runs and flows pages: keyset-paginated lists, capped counts and per-flow run summaries.

Pages never use OFFSET: a page starts after (or ends before) a cursor, the sort key and id of the row next to it,
so the thousandth page costs what the first one does. Every sort key is NOT NULL and ends with the id, so (key, id)
is a total order and a walk through the pages meets every row exactly once, ties included.

Indexes these queries rely on at 100,000 runs (migration 0008): `flow_run (coalesce(start_time,
expected_start_time, created), id)` for the default sort and the date range, `flow_run (name, id)` for the name sort,
`flow_run (flow_id, start_time)` for a flow's last run, and on PostgreSQL a GIN index on `tags` for the tag filter.
The task-run list (`TASK_RUN_LIST`) pages the same way, on `task_run (coalesce(start_time, expected_start_time,
created), id)` (migration 0015).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect, dialect_of
from baton.server.models.filters.core import RUN_START_KEY, contains_text, flow_run_condition, task_run_condition
from baton.server.schemas.requests import RunFilterSet

Condition = sa.ColumnElement[bool]


_run = t.flow_run.c

# The columns a runs table shows, with the flow's name.
RUN_LIST_COLUMNS = [
    _run.id,
    _run.name,
    _run.flow_id,
    t.flow.c.name.label("flow_name"),
    _run.deployment_id,
    _run.infrastructure_pid,
    _run.state_type,
    _run.state_name,
    _run.state_timestamp,
    _run.expected_start_time,
    _run.start_time,
    _run.end_time,
    _run.total_run_time,
    _run.tags,
    _run.created,
]

_task = t.task_run.c
_parent = t.flow_run.alias("parent_flow_run")
# The columns a task-runs table shows, with its flow run's name.
TASK_RUN_LIST_COLUMNS = [
    _task.id,
    _task.name,
    _task.flow_run_id,
    _parent.c.name.label("flow_run_name"),
    _task.state_type,
    _task.state_name,
    _task.state_timestamp,
    _task.expected_start_time,
    _task.start_time,
    _task.end_time,
    _task.total_run_time,
    _task.tags,
    _task.created,
]
# A task run's place in the start-time sorts, as RUN_START_KEY is a flow run's.
TASK_RUN_START_KEY: sa.ColumnElement[dt.datetime] = sa.func.coalesce(
    _task.start_time, _task.expected_start_time, _task.created, type_=_task.created.type
)


class RunSort(enum.Enum):
    START_DESC = "start_desc"
    START_ASC = "start_asc"
    NAME_ASC = "name_asc"
    NAME_DESC = "name_desc"

    @property
    def by_start(self) -> bool:
        return self in (RunSort.START_DESC, RunSort.START_ASC)

    @property
    def descending(self) -> bool:
        return self in (RunSort.START_DESC, RunSort.NAME_DESC)


@dataclass(frozen=True)
class RunList:
    """What a runs table lists (flow runs or task runs): its table and SELECT, the WHERE condition of a filter over
    it, its id column, and its start-time and name sort keys."""

    table: sa.Table
    select: Callable[[], sa.Select[Any]]
    condition: Callable[[RunFilterSet, DatabaseDialect], Condition]
    id_column: sa.ColumnElement[Any]
    start_key: sa.ColumnElement[Any]
    name_key: sa.ColumnElement[Any]

    def sort_key(self, sort: RunSort) -> sa.ColumnElement[Any]:
        return self.start_key if sort.by_start else self.name_key


@dataclass(frozen=True)
class Cursor:
    """A row's position in a sort: its sort key and id."""

    key: Any
    id: uuid.UUID


@dataclass
class Page:
    """Rows of one page; `previous` is set when rows come before it (the first row's cursor), `next` when rows
    follow it (the last row's cursor)."""

    rows: list[dict[str, Any]]
    previous: Cursor | None = None
    next: Cursor | None = None


@dataclass(frozen=True)
class RunListQuery:
    """One page of a runs table: the runs matching `filters` (the API's filter language) in `sort` order, the first
    page or the one after or before a cursor; flow runs unless `runs` says task runs (TASK_RUN_LIST)."""

    filters: RunFilterSet
    sort: RunSort = RunSort.START_DESC
    limit: int = 50
    after: Cursor | None = None
    before: Cursor | None = None
    runs: RunList | None = None


@dataclass
class FlowSummary:
    """A flow's runs at a glance: runs per state type, the latest started run and the soonest scheduled one."""

    counts: dict[str, int] = field(default_factory=dict)
    last_run: dict[str, Any] | None = None
    next_run: dict[str, Any] | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- keyset pagination ------------------------------------------------------------------------------------------


async def keyset_page(
    connection: AsyncConnection,
    query: sa.Select[Any],
    key: sa.ColumnElement[Any],
    id_column: sa.ColumnElement[Any],
    *,
    descending: bool,
    limit: int,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> Page:
    """One page of `query` ordered by (key, id): the first page, the page after `after`, or the page before
    `before`. A page before the start that would come out short is the first page instead."""
    if after is not None and before is not None:
        raise ValueError("a page is either after or before a cursor, not both")
    backwards = before is not None
    cursor = before if backwards else after
    # Walking backwards reads in the opposite order and turns the rows round.
    reverse = descending != backwards
    page_query = query.add_columns(key.label("sort_key"))
    if cursor is not None:
        position = sa.tuple_(key, id_column)
        bound = sa.tuple_(sa.literal(cursor.key, type_=key.type), sa.literal(cursor.id, type_=id_column.type))
        page_query = page_query.where(position < bound if reverse else position > bound)
    order = [key.desc(), id_column.desc()] if reverse else [key.asc(), id_column.asc()]
    result = await connection.execute(page_query.order_by(*order).limit(limit + 1))
    rows = [dict(row) for row in result.mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        if not more:
            return await keyset_page(connection, query, key, id_column, descending=descending, limit=limit)
        rows.reverse()
        return Page(rows, previous=_cursor_of(rows[0]), next=_cursor_of(rows[-1]))
    return Page(
        rows,
        previous=_cursor_of(rows[0]) if cursor is not None and rows else None,
        next=_cursor_of(rows[-1]) if more else None,
    )


def _cursor_of(row: dict[str, Any]) -> Cursor:
    return Cursor(row["sort_key"], row["id"])


# --- runs -------------------------------------------------------------------------------------------------------


def select_run_list() -> sa.Select[Any]:
    """The columns of a runs table, joined to the flow; add WHERE."""
    return sa.select(*RUN_LIST_COLUMNS).select_from(t.flow_run.join(t.flow, t.flow.c.id == _run.flow_id))


def select_task_run_list() -> sa.Select[Any]:
    """The columns of a task-runs table, joined to the flow run (a task run may have none); add WHERE."""
    joined = t.task_run.outerjoin(_parent, _parent.c.id == _task.flow_run_id)
    return sa.select(*TASK_RUN_LIST_COLUMNS).select_from(joined)


FLOW_RUN_LIST = RunList(t.flow_run, select_run_list, flow_run_condition, _run.id, RUN_START_KEY, _run.name)
TASK_RUN_LIST = RunList(t.task_run, select_task_run_list, task_run_condition, _task.id, TASK_RUN_START_KEY, _task.name)


async def read_run_page(
    connection: AsyncConnection,
    filters: RunFilterSet,
    sort: RunSort,
    limit: int,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    runs: RunList = FLOW_RUN_LIST,
) -> Page:
    """One page of the runs matching `filters` in `sort` order (see `keyset_page`)."""
    query = runs.select().where(runs.condition(filters, dialect_of(connection)))
    return await keyset_page(
        connection,
        query,
        runs.sort_key(sort),
        runs.id_column,
        descending=sort.descending,
        limit=limit,
        after=after,
        before=before,
    )


async def count_runs_capped(
    connection: AsyncConnection, filters: RunFilterSet, cap: int, *, runs: RunList = FLOW_RUN_LIST
) -> int:
    """How many runs match `filters`, counting no further than `cap` + 1 (more than `cap` means "cap+"): the work
    is bounded by the cap, never a count of the whole table."""
    condition = runs.condition(filters, dialect_of(connection))
    matching = sa.select(sa.literal(1).label("one")).select_from(runs.table).where(condition).limit(cap + 1)
    query = sa.select(sa.func.count()).select_from(matching.subquery())
    return int((await connection.execute(query)).scalar_one())


async def read_run_list(connection: AsyncConnection, query: RunListQuery, count_cap: int) -> tuple[Page, int]:
    """A runs table's page for `query` and how many runs match it, counted up to `count_cap` + 1."""
    runs = query.runs or FLOW_RUN_LIST
    page = await read_run_page(
        connection, query.filters, query.sort, query.limit, after=query.after, before=query.before, runs=runs
    )
    return page, await count_runs_capped(connection, query.filters, count_cap, runs=runs)


# --- flows ------------------------------------------------------------------------------------------------------


async def read_flow_page(
    connection: AsyncConnection,
    name: str | None,
    limit: int,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> Page:
    """One page of flows by name (names are unique), those whose name contains `name` when it is given."""
    query = sa.select(t.flow)
    if name:
        query = query.where(contains_text(t.flow.c.name, name))
    return await keyset_page(
        connection, query, t.flow.c.name, t.flow.c.id, descending=False, limit=limit, after=after, before=before
    )


async def read_flow_choices(connection: AsyncConnection, limit: int) -> list[dict[str, Any]]:
    """Ids and names of flows by name, for a filter's choice list."""
    query = sa.select(t.flow.c.id, t.flow.c.name).order_by(t.flow.c.name).limit(limit)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_flow_summaries(
    connection: AsyncConnection, flow_ids: list[uuid.UUID], now: dt.datetime
) -> dict[uuid.UUID, FlowSummary]:
    """Summaries of the given flows in three queries whatever their number: run counts per state type, each flow's
    latest started run, and its soonest run scheduled at or after `now`."""
    summaries = {flow_id: FlowSummary() for flow_id in flow_ids}
    if not flow_ids:
        return summaries
    counts = (
        sa.select(_run.flow_id, _run.state_type, sa.func.count().label("runs"))
        .where(_run.flow_id.in_(flow_ids))
        .group_by(_run.flow_id, _run.state_type)
    )
    for flow_id, state_type, runs in await connection.execute(counts):
        summaries[flow_id].counts[state_type or "NONE"] = int(runs)

    latest = t.flow_run.alias("latest")
    last_run_ids = _one_run_per_flow(
        latest.c.id,
        sa.and_(latest.c.flow_id == t.flow.c.id, latest.c.start_time.is_not(None)),
        [latest.c.start_time.desc(), latest.c.id.desc()],
        flow_ids,
    )
    for row in await _read_runs_by_id(connection, last_run_ids):
        summaries[row["flow_id"]].last_run = row

    # The soonest scheduled run ahead of each flow, in one pass over the runs scheduled ahead (few: the scheduler
    # keeps a bounded number per deployment) through the (state_type, expected_start_time) index. A correlated
    # probe per flow, as for the last run, would scan all of them once for every flow that has none.
    upcoming = (
        sa.select(
            _run.id,
            sa.func.row_number()
            .over(partition_by=_run.flow_id, order_by=[_run.expected_start_time.asc(), _run.id.asc()])
            .label("position"),
        )
        .where(_run.flow_id.in_(flow_ids), _run.state_type == "SCHEDULED", _run.expected_start_time >= now)
        .subquery("upcoming")
    )
    next_run_ids = sa.select(upcoming.c.id).where(upcoming.c.position == 1)
    for row in await _read_runs_by_id(connection, next_run_ids):
        summaries[row["flow_id"]].next_run = row
    return summaries


def _one_run_per_flow(
    run_id: sa.ColumnElement[Any], condition: Condition, order_by: list[Any], flow_ids: list[uuid.UUID]
) -> sa.Select[Any]:
    """Per flow in `flow_ids`, the id of its first run in `order_by` among those matching `condition` (a
    correlated subquery: one index probe per flow rather than a scan of all their runs)."""
    first = sa.select(run_id).where(condition).order_by(*order_by).limit(1).correlate(t.flow).scalar_subquery()
    return sa.select(first).where(t.flow.c.id.in_(flow_ids))


async def _read_runs_by_id(connection: AsyncConnection, run_ids: sa.Select[Any]) -> list[dict[str, Any]]:
    query = select_run_list().where(_run.id.in_(run_ids))
    return [dict(row) for row in (await connection.execute(query)).mappings()]

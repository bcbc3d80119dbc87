"""The metrics of metric triggers, read from flow runs over the window of `range` seconds that ends now, per group of
runs (per deployment, flow, work pool or work queue that `match_related` names, or all matching runs as one).

- lateness: the mean of the seconds each run started after its expected start time (0 when on time), over the runs
  that started in the window, together with the runs still waiting to start (Scheduled, Late or Pending) whose
  expected start has passed, each late by the time since then;
- duration: the mean time in Running (`total_run_time`, across retries) of the runs that ended Completed, Failed or
  Crashed in the window;
- successes: the share (0 to 1) of the runs that ended in the window Completed among those that ended Completed,
  Failed or Crashed (a Cancelled run is neither a success nor a failure).

Each is one aggregate query on a range of an indexed time column (`end_time`, `start_time`, or `state_type` and
`expected_start_time`), narrowed by the ids the trigger's specifications resolve to."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.automations.metric_triggers import ALL_RUNS, grouping_kind, kinds_a_spec_may_name, specifications
from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect, dialect_of
from baton.server.models.filters.core import LIKE_ESCAPE, escape_like
from baton.server.schemas.automations import MetricTrigger, ResourceSpecification
from baton.server.schemas.event_filters import label_matches, label_patterns
from baton.states import StateType

Condition = sa.ColumnElement[bool]
ENDED_STATES = (StateType.COMPLETED.value, StateType.FAILED.value, StateType.CRASHED.value)
WAITING_STATES = (StateType.SCHEDULED.value, StateType.PENDING.value)
RELATED_KINDS = ("deployment", "flow", "work-pool", "work-queue", "tag")
_KIND_TABLES = {"deployment": t.deployment, "flow": t.flow, "work-pool": t.work_pool, "work-queue": t.work_queue}
_RUN_COLUMNS = {"deployment": "deployment_id", "flow": "flow_id", "work-queue": "work_queue_id"}
_FLOW_RUN_MATCH_LABELS = ("prefect.resource.id", "prefect.resource.name")


class UnsupportedSpecification(ValueError):
    """A trigger's `match` or `match_related` uses a label or pattern this evaluator cannot turn into a query."""


@dataclass(frozen=True)
class MetricGroup:
    """The metric of one group of runs: `resource` is its resource id (`prefect.deployment.<id>`...) or ALL_RUNS."""

    resource: str
    value: float
    runs: int


async def read_metric(connection: AsyncConnection, trigger: MetricTrigger, now: dt.datetime) -> dict[str, MetricGroup]:
    """The trigger's metric per group of its matching runs with data in the window ending at `now` (groups without
    runs are absent). Raises UnsupportedSpecification for specifications it cannot query."""
    dialect = dialect_of(connection)
    selection = await run_selection(connection, trigger)
    kind = grouping_kind(trigger)
    since = now - trigger.metric.range
    run = t.flow_run.c
    name = trigger.metric.name
    if name == "duration":
        window = _ended_between(since, now)
        parts = [(sa.func.sum(run.total_run_time), window)]
    elif name == "successes":
        completed = sa.case((run.state_type == StateType.COMPLETED.value, 1.0), else_=0.0)
        parts = [(sa.func.sum(completed), _ended_between(since, now))]
    else:
        late_by = dialect.epoch_seconds(run.start_time) - dialect.epoch_seconds(run.expected_start_time)
        started = sa.and_(run.start_time > since, run.start_time <= now, run.expected_start_time.is_not(None))
        waiting = sa.and_(run.state_type.in_(WAITING_STATES), run.expected_start_time < now, run.start_time.is_(None))
        parts = [
            (sa.func.sum(sa.case((late_by > 0, late_by), else_=0.0)), started),
            (sa.func.sum(-dialect.seconds_since(run.expected_start_time, now)), waiting),
        ]
    totals: dict[str, list[float]] = {}
    for total, window in parts:
        for resource, value, count in await _aggregate(connection, kind, total, sa.and_(window, selection)):
            entry = totals.setdefault(resource, [0.0, 0])
            entry[0] += float(value or 0.0)
            entry[1] += int(count)
    return {
        resource: MetricGroup(resource, total / count, int(count))
        for resource, (total, count) in totals.items()
        if count
    }


def _ended_between(since: dt.datetime, now: dt.datetime) -> Condition:
    run = t.flow_run.c
    return sa.and_(run.end_time > since, run.end_time <= now, run.state_type.in_(ENDED_STATES))


async def _aggregate(
    connection: AsyncConnection, kind: str | None, total: sa.ColumnElement[Any], condition: Condition
) -> list[tuple[str, Any, int]]:
    """(resource, sum, count) per group of the runs meeting `condition`."""
    if kind is None:
        row = (await connection.execute(sa.select(total, sa.func.count()).where(condition))).one()
        return [(ALL_RUNS, row[0], row[1])] if row[1] else []
    source: Any = t.flow_run
    if kind == "work-pool":
        source = t.flow_run.join(t.work_queue, t.work_queue.c.id == t.flow_run.c.work_queue_id)
        group = t.work_queue.c.work_pool_id
    else:
        group = t.flow_run.c[_RUN_COLUMNS[kind]]
    query = sa.select(group, total, sa.func.count()).select_from(source).where(condition).group_by(group)
    return [
        (f"prefect.{kind}.{row[0]}", row[1], row[2])
        for row in (await connection.execute(query)).all()
        if row[0] is not None
    ]


async def run_selection(connection: AsyncConnection, trigger: MetricTrigger) -> Condition:
    """A condition on `flow_run` selecting the runs whose own labels meet `match` and whose related resources
    (flow, deployment, work queue, work pool, tags: as their state events name them) meet every `match_related`
    specification (see `metric_triggers.specifications`). Raises UnsupportedSpecification."""
    dialect = dialect_of(connection)
    run_spec, related_specs = specifications(trigger)
    conditions = [_flow_run_condition(run_spec)]
    for spec in related_specs:
        kinds = kinds_a_spec_may_name(spec, RELATED_KINDS)
        alternatives = [await _related_condition(connection, dialect, spec, kind) for kind in kinds]
        conditions.append(sa.or_(sa.false(), *alternatives))
    return sa.and_(sa.true(), *conditions)


def _flow_run_condition(spec: ResourceSpecification) -> Condition:
    """`match` as a condition on the run's own labels; only its id and name can be queried."""
    run = t.flow_run.c
    conditions: list[Condition] = []
    for label, expected in spec.items():
        if label not in _FLOW_RUN_MATCH_LABELS:
            raise UnsupportedSpecification(f"match on the label {label!r} of flow runs")
        patterns = label_patterns(expected)
        if label == "prefect.resource.id":
            if any(_matches_every_flow_run(pattern) for pattern in patterns):
                continue
            ids = [_uuid_after(pattern, "prefect.flow-run.") for pattern in patterns]
            conditions.append(run.id.in_(ids))
        else:
            conditions.append(sa.or_(*(_text_matches(run.name, pattern) for pattern in patterns)))
    return sa.and_(sa.true(), *conditions)


def _matches_every_flow_run(pattern: str) -> bool:
    return _covers(pattern, "prefect.flow-run.")


def _text_matches(column: sa.ColumnElement[str], pattern: str) -> Condition:
    """An exact value, or a prefix ending in `*`; other globs raise UnsupportedSpecification."""
    prefix = pattern.removesuffix("*")
    if _has_wildcard(prefix) or pattern.startswith("!"):
        raise UnsupportedSpecification(f"the pattern {pattern!r}")
    if pattern.endswith("*"):
        return column.like(f"{escape_like(prefix)}%", escape=LIKE_ESCAPE)
    return column == pattern


def _has_wildcard(text: str) -> bool:
    return any(character in text for character in "*?[")


def _uuid_after(pattern: str, prefix: str) -> uuid.UUID:
    if not pattern.startswith(prefix):
        raise UnsupportedSpecification(f"the pattern {pattern!r}")
    try:
        return uuid.UUID(pattern.removeprefix(prefix))
    except ValueError:
        raise UnsupportedSpecification(f"the pattern {pattern!r}") from None


async def _related_condition(
    connection: AsyncConnection, dialect: DatabaseDialect, spec: ResourceSpecification, kind: str
) -> Condition:
    """Runs related, as `kind`, to a resource meeting `spec`."""
    run = t.flow_run.c
    if kind == "tag":
        return _tag_condition(dialect, spec)
    column = run.work_queue_id if kind == "work-pool" else run[_RUN_COLUMNS[kind]]
    if _names_every(spec, kind):
        return column.is_not(None)
    ids = await _matching_ids(connection, spec, kind)
    if not ids:
        return sa.false()
    if kind == "work-pool":
        queues = sa.select(t.work_queue.c.id).where(t.work_queue.c.work_pool_id.in_(ids))
        ids = list((await connection.execute(queues)).scalars())
        return column.in_(ids) if ids else sa.false()
    return column.in_(ids)


def _names_every(spec: ResourceSpecification, kind: str) -> bool:
    """Whether every resource of `kind` meets `spec` (`prefect.deployment.*`, or a role alone), so that the runs
    need no list of ids."""
    if any(label not in ("prefect.resource.id", "prefect.resource.role") for label in spec):
        return False
    ids = label_patterns(spec.get("prefect.resource.id", []))
    roles = label_patterns(spec.get("prefect.resource.role", []))
    every_id = not ids or any(_covers(pattern, f"prefect.{kind}.") for pattern in ids)
    return every_id and (not roles or any(label_matches(pattern, kind) for pattern in roles))


def _covers(pattern: str, prefix: str) -> bool:
    """Whether the glob `pattern` matches every value starting with `prefix`."""
    head = pattern.removesuffix("*")
    return pattern.endswith("*") and not _has_wildcard(head) and prefix.startswith(head)


async def _matching_ids(connection: AsyncConnection, spec: ResourceSpecification, kind: str) -> list[uuid.UUID]:
    """The ids of the objects of `kind` whose labels (as a flow-run event relates them) meet `spec`; reads only the
    named ones when `spec` names ids exactly."""
    table = _KIND_TABLES[kind]
    columns = [table.c.id, table.c.name, *([table.c.type] if kind == "work-pool" else [])]
    query = sa.select(*columns)
    prefix = f"prefect.{kind}."
    exact = label_patterns(spec.get("prefect.resource.id", []))
    if exact and all(p.startswith(prefix) and not _has_wildcard(p.removeprefix(prefix)) for p in exact):
        try:
            query = query.where(table.c.id.in_([uuid.UUID(p.removeprefix(prefix)) for p in exact]))
        except ValueError:
            return []
    found = []
    for row in (await connection.execute(query)).mappings():
        labels = {"prefect.resource.id": f"{prefix}{row['id']}", "prefect.resource.role": kind}
        labels["prefect.resource.name"] = row["name"]
        if kind == "work-pool":
            labels["prefect.work-pool.type"] = row["type"]
        if _labels_match(spec, labels):
            found.append(row["id"])
    return found


def _labels_match(spec: ResourceSpecification, labels: dict[str, str]) -> bool:
    return all(
        any(label_matches(pattern, labels.get(label)) for pattern in label_patterns(expected))
        for label, expected in spec.items()
    )


def _tag_condition(dialect: DatabaseDialect, spec: ResourceSpecification) -> Condition:
    """Runs with a tag meeting `spec`: exact tags, or any tag (`prefect.tag.*`); a tag has no other label."""
    run = t.flow_run.c
    if any(label not in ("prefect.resource.id", "prefect.resource.role") for label in spec):
        return sa.false()
    roles = label_patterns(spec.get("prefect.resource.role", []))
    if roles and not any(label_matches(pattern, "tag") for pattern in roles):
        return sa.false()
    tags: list[str] = []
    for pattern in label_patterns(spec.get("prefect.resource.id", ["prefect.tag.*"])):
        if _covers(pattern, "prefect.tag."):
            return dialect.json_array_length(run.tags) > 0
        if pattern.startswith("prefect.tag.") and not _has_wildcard(pattern) and not pattern.startswith("!"):
            tags.append(pattern.removeprefix("prefect.tag."))
        elif label_matches(pattern, "prefect.tag.x") or pattern.startswith("prefect.tag."):
            raise UnsupportedSpecification(f"the tag pattern {pattern!r}")
    return dialect.json_overlaps(run.tags, tags) if tags else sa.false()

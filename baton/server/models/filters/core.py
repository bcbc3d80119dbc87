"""Filter and sort bodies turned into SQL conditions and ORDER BY lists over the run, flow and log tables.

Semantics follow Prefect's server: a sub-filter that is present (even empty) for a related object requires that such
an object exists (`{"deployments": {}}` keeps only runs with a deployment), except `flows`, which every run has.
Related objects are matched with uncorrelated `IN (SELECT ...)` subqueries, so a condition can be used in any query
over its table, including the joined SELECTs and the counts in the run models.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect
from baton.server.database.types import utcnow
from baton.server.schemas import filters as f
from baton.server.schemas.requests import FlowFilterSet, RunFilterSet
from baton.server.schemas.sorting import DeploymentSort, FlowRunSort, FlowSort, LogSort, TaskRunSort

Condition = sa.ColumnElement[bool]
# When a run started; before it starts, when it is expected to; a run that never had a state, when it was created.
# Never NULL, so that it can lead a keyset cursor; the expression of the index ix_flow_run__start_key__id.
RUN_START_KEY: sa.ColumnElement[dt.datetime] = sa.func.coalesce(
    t.flow_run.c.start_time, t.flow_run.c.expected_start_time, t.flow_run.c.created, type_=t.flow_run.c.created.type
)
LIKE_ESCAPE = "\\"

# --- building blocks ------------------------------------------------------------------------------------------------


def _group(parts: Iterable[Condition | None], operator: str = "and_") -> Condition | None:
    """The parts that constrain anything, combined with `operator`; None when there are none."""
    present = [part for part in parts if part is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return sa.and_(*present) if operator == "and_" else sa.or_(*present)


def _finish(condition: Condition | None) -> Condition:
    return sa.true() if condition is None else condition


def _ids(column: sa.ColumnElement[Any], condition: Condition | None) -> sa.Select[Any]:
    """`SELECT column WHERE condition`, never correlated with the query it is nested in."""
    return sa.select(column).where(_finish(condition)).correlate(None)


def escape_like(text: str) -> str:
    """`text` with LIKE wildcards and the escape character escaped, to be matched literally."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def contains_text(column: sa.ColumnElement[Any], text: str, *, inline: bool = False) -> Condition:
    """Case-insensitive substring match (ILIKE on PostgreSQL, where trigram indexes serve it). `inline` writes the
    pattern into the statement rather than binding it, so that the plan is made for this text (a prepared
    statement's generic plan guesses how rare any text is)."""
    pattern = f"%{escape_like(text)}%"
    return column.ilike(sa.literal(pattern, literal_execute=True) if inline else pattern, escape=LIKE_ESCAPE)


def _field(column: sa.ColumnElement[Any], spec: f.FilterModel | None) -> Condition | None:
    """Every operator key set on `spec` applied to `column`, combined with the spec's operator (default and_)."""
    if spec is None:
        return None
    values = spec.__dict__
    parts: list[Condition | None] = []
    if values.get("any_") is not None:
        parts.append(column.in_(values["any_"]))
    if values.get("not_any_"):
        parts.append(column.not_in(values["not_any_"]))
    if values.get("like_"):
        parts.append(contains_text(column, values["like_"]))
    if values.get("startswith_") is not None:
        starts = (column.ilike(f"{escape_like(text)}%", escape=LIKE_ESCAPE) for text in values["startswith_"])
        parts.append(sa.or_(sa.false(), *starts))
    if values.get("before_") is not None:
        parts.append(column <= values["before_"])
    if values.get("after_") is not None:
        parts.append(column >= values["after_"])
    if values.get("ge_") is not None:
        parts.append(column >= values["ge_"])
    if values.get("le_") is not None:
        parts.append(column <= values["le_"])
    if values.get("eq_") is not None:
        parts.append(column.is_(sa.true() if values["eq_"] else sa.false()))
    if values.get("is_null_") is not None:
        parts.append(column.is_(None) if values["is_null_"] else column.is_not(None))
    return _group(parts, values.get("operator", "and_"))


def _is_null(column: sa.ColumnElement[Any], is_null: bool | None) -> Condition | None:
    if is_null is None:
        return None
    return column.is_(None) if is_null else column.is_not(None)


def _tags(column: sa.ColumnElement[Any], spec: f.TagsAllNull | None, dialect: DatabaseDialect) -> Condition | None:
    if spec is None:
        return None
    any_values = getattr(spec, "any_", None)
    empty = sa.func.coalesce(dialect.json_array_length(column), 0) == 0
    return _group(
        [
            dialect.json_contains(column, spec.all_) if spec.all_ else None,
            None if any_values is None else dialect.json_overlaps(column, any_values),
            None if spec.is_null_ is None else (empty if spec.is_null_ else sa.not_(empty)),
        ],
        spec.operator,
    )


# --- one entity at a time -------------------------------------------------------------------------------------------


def _flow(spec: f.FlowFilter | None, dialect: DatabaseDialect) -> Condition | None:
    if spec is None:
        return None
    column = t.flow.c
    deployment = None
    if spec.deployment is not None and spec.deployment.is_null_ is not None:
        with_deployment = _ids(t.deployment.c.flow_id, None)
        deployment = column.id.not_in(with_deployment) if spec.deployment.is_null_ else column.id.in_(with_deployment)
    return _group(
        [
            _field(column.id, spec.id),
            deployment,
            _field(column.name, spec.name),
            _tags(column.tags, spec.tags, dialect),
        ],
        spec.operator,
    )


def _flow_run(spec: f.FlowRunFilter | None, dialect: DatabaseDialect) -> Condition | None:
    if spec is None:
        return None
    run = t.flow_run.c
    parts = [
        _field(run.id, spec.id),
        _field(run.name, spec.name),
        _tags(run.tags, spec.tags, dialect),
        _field(run.deployment_id, spec.deployment_id),
        _field(run.work_queue_name, spec.work_queue_name),
        _field(run.flow_version, spec.flow_version),
        _field(run.end_time, spec.end_time),
        _field(run.expected_start_time, spec.expected_start_time),
        _field(run.next_scheduled_start_time, spec.next_scheduled_start_time),
        _field(run.parent_task_run_id, spec.parent_task_run_id),
        _field(run.idempotency_key, spec.idempotency_key),
    ]
    if spec.state is not None:
        state = spec.state
        parts.append(_group([_field(run.state_type, state.type), _field(run.state_name, state.name)], state.operator))
    if spec.start_time is not None:
        # Prefect compares a run's start time, falling back to when it was expected to start; is_null_ looks at the
        # start time alone. The range is put on RUN_START_KEY (so that its index serves it) over the runs that have
        # either time, which are the runs where the two expressions agree.
        range_only = f.TimeRange(before_=spec.start_time.before_, after_=spec.start_time.after_)
        in_range = _field(RUN_START_KEY, range_only)
        if in_range is not None:
            timed = sa.or_(run.start_time.is_not(None), run.expected_start_time.is_not(None))
            parts.append(sa.and_(in_range, timed))
        parts.append(_is_null(run.start_time, spec.start_time.is_null_))
    if spec.parent_flow_run_id is not None and spec.parent_flow_run_id.any_ is not None:
        parent_task = t.task_run.alias("parent_task_run")
        in_parents = parent_task.c.flow_run_id.in_(spec.parent_flow_run_id.any_)
        parts.append(run.parent_task_run_id.in_(_ids(parent_task.c.id, in_parents)))
    if spec.created_by is not None:
        created_by = spec.created_by
        creator_ids = None if created_by.id_ is None else f.StringAny(any_=[str(i) for i in created_by.id_])
        creator_types = None if created_by.type_ is None else f.StringAny(any_=created_by.type_)
        condition = _group(
            [
                _field(run.created_by["id"].as_string(), creator_ids),
                _field(run.created_by["type"].as_string(), creator_types),
                _is_null(run.created_by, created_by.is_null_),
            ],
            created_by.operator,
        )
        parts.append(condition)
    return _group(parts, spec.operator)


def _task_run(spec: f.TaskRunFilter | None, dialect: DatabaseDialect) -> Condition | None:
    if spec is None:
        return None
    run = t.task_run.c
    parts = [
        _field(run.id, spec.id),
        _field(run.name, spec.name),
        _tags(run.tags, spec.tags, dialect),
        _field(run.start_time, spec.start_time),
        _field(run.end_time, spec.end_time),
        _field(run.expected_start_time, spec.expected_start_time),
    ]
    if spec.state is not None:
        state = spec.state
        parts.append(_group([_field(run.state_type, state.type), _field(run.state_name, state.name)], state.operator))
    if spec.subflow_runs is not None and spec.subflow_runs.exists_ is not None:
        subflow = t.flow_run.alias("subflow_run")
        parents = _ids(subflow.c.parent_task_run_id, subflow.c.parent_task_run_id.is_not(None))
        parts.append(run.id.in_(parents) if spec.subflow_runs.exists_ else run.id.not_in(parents))
    if spec.flow_run_id is not None:
        # As in Prefect: is_null_=false is only applied when no ids are given (the ids imply it).
        flow_run_id = spec.flow_run_id
        if flow_run_id.is_null_ is True:
            parts.append(run.flow_run_id.is_(None))
        elif flow_run_id.is_null_ is False and flow_run_id.any_ is None:
            parts.append(run.flow_run_id.is_not(None))
        elif flow_run_id.any_ is not None:
            parts.append(run.flow_run_id.in_(flow_run_id.any_))
    return _group(parts, spec.operator)


def _deployment(spec: f.DeploymentFilter | None, dialect: DatabaseDialect) -> Condition | None:
    if spec is None:
        return None
    column = t.deployment.c
    name_match = None
    if spec.flow_or_deployment_name is not None and spec.flow_or_deployment_name.like_:
        text = spec.flow_or_deployment_name.like_
        flows = _ids(t.flow.c.id, contains_text(t.flow.c.name, text))
        name_match = sa.or_(contains_text(column.name, text), column.flow_id.in_(flows))
    return _group(
        [
            _field(column.id, spec.id),
            _field(column.name, spec.name),
            name_match,
            _field(column.paused, spec.paused),
            _tags(column.tags, spec.tags, dialect),
            _field(column.work_queue_name, spec.work_queue_name),
        ],
        spec.operator,
    )


def _work_pool(spec: f.WorkPoolFilter | None) -> Condition | None:
    if spec is None:
        return None
    column = t.work_pool.c
    parts = [_field(column.id, spec.id), _field(column.name, spec.name), _field(column.type, spec.type)]
    return _group(parts, spec.operator)


def _work_queue(spec: f.WorkQueueFilter | None) -> Condition | None:
    if spec is None:
        return None
    return _group([_field(t.work_queue.c.id, spec.id), _field(t.work_queue.c.name, spec.name)], spec.operator)


def work_pool_condition(spec: f.WorkPoolFilter | None) -> Condition:
    """The WHERE condition over `work_pool` for a work-pool filter (everything when None)."""
    return _finish(_work_pool(spec))


def work_queue_condition(spec: f.WorkQueueFilter | None) -> Condition:
    """The WHERE condition over `work_queue` for a work-queue filter (everything when None)."""
    return _finish(_work_queue(spec))


def _queue_ids(request: FlowFilterSet) -> Condition | None:
    """Work queues matching the work-pool and work-queue filters; None when neither is given."""
    queue_filter = request.work_pool_queues if isinstance(request, RunFilterSet) else None
    if request.work_pools is None and queue_filter is None:
        return None
    conditions = [_work_queue(queue_filter)]
    if request.work_pools is not None:
        conditions.append(t.work_queue.c.work_pool_id.in_(_ids(t.work_pool.c.id, _work_pool(request.work_pools))))
    return _finish(_group(conditions))


# --- whole requests -------------------------------------------------------------------------------------------------


def _runs_of_request(request: FlowFilterSet, dialect: DatabaseDialect, *, with_task_runs: bool) -> Condition | None:
    """The flow-run condition for every filter in `request` (task runs only when `with_task_runs`)."""
    run = t.flow_run.c
    parts = [_flow_run(request.flow_runs, dialect)]
    flow = _flow(request.flows, dialect)
    if flow is not None:
        parts.append(run.flow_id.in_(_ids(t.flow.c.id, flow)))
    if request.deployments is not None:
        parts.append(run.deployment_id.in_(_ids(t.deployment.c.id, _deployment(request.deployments, dialect))))
    queues = _queue_ids(request)
    if queues is not None:
        parts.append(run.work_queue_id.in_(_ids(t.work_queue.c.id, queues)))
    if with_task_runs and request.task_runs is not None:
        parts.append(run.id.in_(_ids(t.task_run.c.flow_run_id, _task_run(request.task_runs, dialect))))
    return _group(parts)


def flow_run_condition(request: RunFilterSet, dialect: DatabaseDialect) -> Condition:
    """The WHERE condition over `flow_run` for a flow-run filter, count, paginate or history request."""
    return _finish(_runs_of_request(request, dialect, with_task_runs=True))


def task_run_condition(request: RunFilterSet, dialect: DatabaseDialect) -> Condition:
    """The WHERE condition over `task_run` for a task-run filter, count, paginate or history request."""
    parts = [_task_run(request.task_runs, dialect)]
    related = (request.flows, request.flow_runs, request.deployments, request.work_pools, request.work_pool_queues)
    if any(spec is not None for spec in related):
        runs = _runs_of_request(request, dialect, with_task_runs=False)
        parts.append(t.task_run.c.flow_run_id.in_(_ids(t.flow_run.c.id, runs)))
    return _finish(_group(parts))


def flow_condition(request: FlowFilterSet, dialect: DatabaseDialect) -> Condition:
    """The WHERE condition over `flow` for a flow filter, count or paginate request."""
    column = t.flow.c
    parts = [_flow(request.flows, dialect)]
    if request.deployments is not None or request.work_pools is not None:
        deployments = [_deployment(request.deployments, dialect)]
        if request.work_pools is not None:
            pools = _ids(t.work_pool.c.id, _work_pool(request.work_pools))
            deployments.append(
                t.deployment.c.work_queue_id.in_(_ids(t.work_queue.c.id, t.work_queue.c.work_pool_id.in_(pools)))
            )
        parts.append(column.id.in_(_ids(t.deployment.c.flow_id, _group(deployments))))
    if request.flow_runs is not None or request.task_runs is not None:
        runs = [_flow_run(request.flow_runs, dialect)]
        if request.task_runs is not None:
            runs.append(t.flow_run.c.id.in_(_ids(t.task_run.c.flow_run_id, _task_run(request.task_runs, dialect))))
        parts.append(column.id.in_(_ids(t.flow_run.c.flow_id, _group(runs))))
    return _finish(_group(parts))


def deployment_condition(request: RunFilterSet, dialect: DatabaseDialect) -> Condition:
    """The WHERE condition over `deployment` for a deployment filter, count or paginate request."""
    column = t.deployment.c
    parts = [_deployment(request.deployments, dialect)]
    if request.flows is not None:
        parts.append(column.flow_id.in_(_ids(t.flow.c.id, _flow(request.flows, dialect))))
    if request.flow_runs is not None or request.task_runs is not None:
        runs = [_flow_run(request.flow_runs, dialect), t.flow_run.c.deployment_id.is_not(None)]
        if request.task_runs is not None:
            runs.append(t.flow_run.c.id.in_(_ids(t.task_run.c.flow_run_id, _task_run(request.task_runs, dialect))))
        parts.append(column.id.in_(_ids(t.flow_run.c.deployment_id, _group(runs))))
    queues = _queue_ids(request)
    if queues is not None:
        parts.append(column.work_queue_id.in_(_ids(t.work_queue.c.id, queues)))
    return _finish(_group(parts))


def log_condition(spec: f.LogFilter | None) -> Condition:
    """The WHERE condition over `log` for a log filter (everything when `spec` is None)."""
    if spec is None:
        return sa.true()
    column = t.log.c
    parts = [
        _field(column.level, spec.level),
        _field(column.timestamp, spec.timestamp),
        _field(column.flow_run_id, spec.flow_run_id),
        _field(column.task_run_id, spec.task_run_id),
        None if spec.text is None else _text_search(spec.text.query),
    ]
    return _finish(_group(parts, spec.operator))


_SEARCH_TERM = re.compile(r'([-!+]?)(?:"((?:[^"\\]|\\.)*)"?|(\S+))')


def _text_search(query: str) -> Condition | None:
    """Prefect's log search: any plain term matches, `-term`/`!term` must not match, `+term` must match; each term
    is a case-insensitive substring of the message or the logger name; "quoted phrases" are one term."""
    include: list[Condition] = []
    others: list[Condition] = []
    for prefix, phrase, word in _SEARCH_TERM.findall(query):
        term = phrase.replace('\\"', '"') if phrase else word
        if not term:
            continue
        match = sa.or_(contains_text(t.log.c.message, term), contains_text(t.log.c.name, term))
        if prefix in ("-", "!"):
            others.append(sa.not_(match))
        elif prefix == "+":
            others.append(match)
        else:
            include.append(match)
    return _group([_group(include, "or_"), *others])


# --- sorting --------------------------------------------------------------------------------------------------------
# Every order ends with the primary key, so that pages are stable; NULL times sort last on both databases.


def _asc(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return column.asc().nulls_last()


def _desc(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return column.desc().nulls_last()


def flow_order_by(sort: FlowSort) -> list[sa.ColumnElement[Any]]:
    return _named_object_order(t.flow, sort.value)


def deployment_order_by(sort: DeploymentSort) -> list[sa.ColumnElement[Any]]:
    return _named_object_order(t.deployment, sort.value)


def _named_object_order(table: sa.Table, sort: str) -> list[sa.ColumnElement[Any]]:
    orders = {
        "CREATED_DESC": [table.c.created.desc()],
        "UPDATED_DESC": [table.c.updated.desc()],
        "NAME_ASC": [table.c.name.asc()],
        "NAME_DESC": [table.c.name.desc()],
    }
    return [*orders[sort], table.c.id.desc() if sort.endswith("DESC") else table.c.id.asc()]


def flow_run_order_by(sort: FlowRunSort) -> list[sa.ColumnElement[Any]]:
    run = t.flow_run.c
    orders: dict[FlowRunSort, list[sa.ColumnElement[Any]]] = {
        FlowRunSort.ID_DESC: [],
        FlowRunSort.START_TIME_ASC: [_asc(sa.func.coalesce(run.start_time, run.expected_start_time))],
        FlowRunSort.START_TIME_DESC: [_desc(sa.func.coalesce(run.start_time, run.expected_start_time))],
        FlowRunSort.EXPECTED_START_TIME_ASC: [_asc(run.expected_start_time)],
        FlowRunSort.EXPECTED_START_TIME_DESC: [_desc(run.expected_start_time)],
        FlowRunSort.NAME_ASC: [run.name.asc()],
        FlowRunSort.NAME_DESC: [run.name.desc()],
        FlowRunSort.NEXT_SCHEDULED_START_TIME_ASC: [_asc(run.next_scheduled_start_time)],
        FlowRunSort.END_TIME_DESC: [_desc(run.end_time)],
    }
    return [*orders[sort], run.id.desc()]


def task_run_order_by(
    sort: TaskRunSort, dialect: DatabaseDialect | None = None, now: dt.datetime | None = None
) -> list[sa.ColumnElement[Any]]:
    """ORDER BY for task runs. DURATION_* counts a RUNNING run's ongoing time only when `dialect` is given (it
    needs timestamp arithmetic); without it, the recorded `total_run_time` alone decides."""
    run = t.task_run.c
    orders: dict[TaskRunSort, list[sa.ColumnElement[Any]]] = {
        TaskRunSort.ID_DESC: [],
        TaskRunSort.EXPECTED_START_TIME_ASC: [_asc(run.expected_start_time)],
        TaskRunSort.EXPECTED_START_TIME_DESC: [_desc(run.expected_start_time)],
        TaskRunSort.NAME_ASC: [run.name.asc()],
        TaskRunSort.NAME_DESC: [run.name.desc()],
        TaskRunSort.NEXT_SCHEDULED_START_TIME_ASC: [_asc(run.next_scheduled_start_time)],
        TaskRunSort.END_TIME_DESC: [_desc(run.end_time)],
    }
    if sort in (TaskRunSort.DURATION_ASC, TaskRunSort.DURATION_DESC):
        duration = run.total_run_time if dialect is None else estimated_run_time(t.task_run, dialect, now or utcnow())
        first = duration.asc() if sort is TaskRunSort.DURATION_ASC else duration.desc()
        # Ties (runs not started yet) are broken as Prefect does, so that pages are stable.
        return [first, _desc(run.expected_start_time), run.id.desc()]
    return [*orders[sort], run.id.desc()]


def estimated_run_time(table: sa.Table, dialect: DatabaseDialect, now: dt.datetime) -> sa.ColumnElement[float]:
    """Seconds a run has run: `total_run_time`, plus the time since its state began while it is RUNNING."""
    running_for = -dialect.seconds_since(table.c.state_timestamp, now)
    return sa.case(
        (
            sa.and_(table.c.state_type == "RUNNING", table.c.state_timestamp.is_not(None)),
            table.c.total_run_time + running_for,
        ),
        else_=table.c.total_run_time,
    )


def log_order_by(sort: LogSort) -> list[sa.ColumnElement[Any]]:
    column = t.log.c
    first = column.timestamp.asc() if sort is LogSort.TIMESTAMP_ASC else column.timestamp.desc()
    return [first, column.id.asc() if sort is LogSort.TIMESTAMP_ASC else column.id.desc()]

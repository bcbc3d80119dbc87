"""The task-run recorder: `prefect.task-run.*` events emitted by the Prefect client become task runs and history.

The Prefect 3 client orchestrates task runs itself and reports each state as an event (reference section 1.9). Each
event carries the whole task run; the recorder upserts the run row, keeping the newest state (a row is only updated
by an event whose state timestamp is later than the row's, so out-of-order delivery never moves a run backwards),
and inserts every state into the history, skipping ids already there (redelivery is harmless).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect, dialect_of
from baton.server.database.dialects.base import OnConflict, PreparedInsert
from baton.server.database.types import utcnow
from baton.server.models.events.events import SKIP_STORED, by_id, parse_time
from baton.server.schemas.events import (
    FLOW_RUN_RESOURCE_PREFIX,
    RESOURCE_ID,
    RESOURCE_ROLE,
    TASK_RUN_RESOURCE_PREFIX,
)
from baton.states import TERMINAL_STATE_TYPES

logger = logging.getLogger("baton.recorder")

TASK_RUN_EVENT_PREFIX = "prefect.task-run."

# Run columns an event may set; `id` and `created` stay as first written.
_UPDATED_COLUMNS = (
    "updated",
    "name",
    "flow_run_id",
    "task_key",
    "dynamic_key",
    "cache_key",
    "cache_expiration",
    "task_version",
    "flow_run_run_count",
    "empirical_policy",
    "task_inputs",
    "tags",
    "labels",
    "state_id",
    "state_type",
    "state_name",
    "state_timestamp",
    "run_count",
    "expected_start_time",
    "next_scheduled_start_time",
    "start_time",
    "end_time",
    "total_run_time",
)
_TIME_FIELDS = ("cache_expiration", "expected_start_time", "next_scheduled_start_time", "start_time", "end_time")


class RecordedTaskRun(NamedTuple):
    """One event's task run row and its state-history row."""

    run: dict[str, Any]
    state: dict[str, Any]


class UnrecordableEvent(ValueError):
    """A task-run event that lacks what a task run needs (its reason is logged; the event itself is kept)."""


def is_client_task_run_event(event: dict[str, Any]) -> bool:
    """Whether the recorder handles `event`: a task-run state reported by a client-side orchestrator."""
    return event["event"].startswith(TASK_RUN_EVENT_PREFIX) and (
        event["resource"].get("prefect.orchestration") == "client"
    )


def _uuid_after(prefix: str, resource_id: str) -> uuid.UUID:
    if not resource_id.startswith(prefix):
        raise UnrecordableEvent(f"resource id {resource_id!r} does not start with {prefix!r}")
    try:
        return uuid.UUID(resource_id[len(prefix) :])
    except ValueError:
        raise UnrecordableEvent(f"resource id {resource_id!r} does not end in a UUID") from None


def _flow_run_id(event: dict[str, Any]) -> uuid.UUID | None:
    for related in event.get("related") or []:
        if related.get(RESOURCE_ROLE) == "flow-run":
            return _uuid_after(FLOW_RUN_RESOURCE_PREFIX, related[RESOURCE_ID])
    return None


def _time_or_none(value: Any) -> Any:
    return parse_time(value) if value else None


def task_run_from_event(event: dict[str, Any], now: Any) -> RecordedTaskRun:
    """The run row and state row an event describes; raises UnrecordableEvent when it lacks what they need."""
    task_run_id = _uuid_after(TASK_RUN_RESOURCE_PREFIX, event["resource"][RESOURCE_ID])
    payload = event.get("payload") or {}
    validated = payload.get("validated_state")
    fields = payload.get("task_run")
    if not isinstance(validated, dict) or not isinstance(fields, dict):
        raise UnrecordableEvent("payload lacks validated_state or task_run")
    if not fields.get("task_key") or fields.get("dynamic_key") is None:
        raise UnrecordableEvent("payload.task_run lacks task_key or dynamic_key")
    state_type = validated.get("type")
    if not state_type:
        raise UnrecordableEvent("payload.validated_state lacks a type")
    flow_run_id = _flow_run_id(event)
    state_id = uuid.UUID(str(event["id"]))
    occurred = parse_time(event["occurred"])
    state_name = validated.get("name") or str(state_type).title()
    details = dict(validated.get("state_details") or {})
    details["task_run_id"] = str(task_run_id)
    if flow_run_id is not None:
        details["flow_run_id"] = str(flow_run_id)
    run = {
        "id": task_run_id,
        "created": now,
        "updated": now,
        "name": fields.get("name") or event["resource"].get("prefect.resource.name") or str(task_run_id),
        "flow_run_id": flow_run_id,
        "task_key": str(fields["task_key"]),
        "dynamic_key": str(fields["dynamic_key"]),
        "cache_key": fields.get("cache_key"),
        "task_version": fields.get("task_version"),
        "flow_run_run_count": int(fields.get("flow_run_run_count") or 0),
        "empirical_policy": fields.get("empirical_policy") or {},
        "task_inputs": fields.get("task_inputs") or {},
        "tags": list(fields.get("tags") or []),
        "labels": fields.get("labels") or {},
        "state_id": state_id,
        "state_type": str(state_type),
        "state_name": state_name,
        "state_timestamp": occurred,
        "run_count": int(fields.get("run_count") or 0),
        "total_run_time": float(fields.get("total_run_time") or 0.0),
        **{name: _time_or_none(fields.get(name)) for name in _TIME_FIELDS},
    }
    state = {
        "id": state_id,
        "created": now,
        "updated": now,
        "task_run_id": task_run_id,
        "type": str(state_type),
        "name": state_name,
        "timestamp": occurred,
        "message": validated.get("message"),
        "state_details": details,
        "data": validated.get("data"),
        "result_artifact_id": None,
    }
    return RecordedTaskRun(run, state)


# What identifies a run besides its id never changes, so a later event does not write it again. That matters on
# PostgreSQL: an upsert that sets a column of a unique index locks the row FOR UPDATE, which blocks the foreign-key
# checks of other batches inserting states of the same run; without them the lock is FOR NO KEY UPDATE.
_IDENTITY_COLUMNS = frozenset({"flow_run_id", "task_key", "dynamic_key"})
_SET_ON_CONFLICT = tuple(name for name in _UPDATED_COLUMNS if name not in _IDENTITY_COLUMNS)
# The run upsert's conflict rule: a run only takes a newer state.
NEWER_STATE_WINS = OnConflict(update=_SET_ON_CONFLICT, if_newer="state_timestamp")


@dataclass
class TaskRunBatch:
    """The task runs (newest state of each) and state rows of a batch of events, in id order: concurrent batches
    that share runs then lock them in the same order and wait for each other instead of deadlocking (a deadlock
    costs a second of detection and a retry of the whole batch)."""

    runs: list[dict[str, Any]]
    states: list[dict[str, Any]]
    states_by_run: dict[uuid.UUID, list[dict[str, Any]]]
    #: The inserts of all runs and states, built before the transaction (see `PreparedInsert`).
    prepared: tuple[PreparedInsert, PreparedInsert] | None = None


def prepare_task_runs(events: list[dict[str, Any]], dialect: DatabaseDialect) -> TaskRunBatch:
    """The task runs and states of the client task-run events among `events` (others are skipped; one that lacks
    what a task run needs is logged)."""
    now = utcnow()
    newest: dict[uuid.UUID, dict[str, Any]] = {}
    states_by_run: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for event in events:
        if not is_client_task_run_event(event):
            continue
        try:
            recorded = task_run_from_event(event, now)
        except (UnrecordableEvent, KeyError, TypeError, ValueError) as exc:
            logger.warning("Task-run event %s not recorded as a task run: %s", event.get("id"), exc)
            continue
        run_id = recorded.run["id"]
        # One row per run per statement (PostgreSQL refuses to update a row twice in one INSERT ... ON CONFLICT).
        kept = newest.get(run_id)
        if kept is None or kept["state_timestamp"] < recorded.run["state_timestamp"]:
            newest[run_id] = recorded.run
        states_by_run.setdefault(run_id, []).append(recorded.state)
    states = sorted((state for run_states in states_by_run.values() for state in run_states), key=by_id)
    batch = TaskRunBatch(sorted(newest.values(), key=by_id), states, states_by_run)
    if batch.runs:
        batch.prepared = _prepared_inserts(dialect, batch.runs, batch.states)
    return batch


def _prepared_inserts(
    dialect: DatabaseDialect, runs: list[dict[str, Any]], states: list[dict[str, Any]]
) -> tuple[PreparedInsert, PreparedInsert]:
    return (
        dialect.prepare_insert(t.task_run, runs, NEWER_STATE_WINS),
        dialect.prepare_insert(t.task_run_state, states, SKIP_STORED),
    )


async def _write(
    connection: AsyncConnection,
    runs: list[dict[str, Any]],
    states: list[dict[str, Any]],
    prepared: tuple[PreparedInsert, PreparedInsert] | None = None,
) -> None:
    for insert in prepared or _prepared_inserts(dialect_of(connection), runs, states):
        await insert.execute(connection)


async def write_task_runs(connection: AsyncConnection, batch: TaskRunBatch) -> int:
    """Upsert the batch's task runs and insert their states; the number of states handled. A run the database
    refuses (its flow run was deleted, a key clash) is logged and skipped without holding up the rest."""
    if not batch.runs:
        return 0
    try:
        async with connection.begin_nested():
            await _write(connection, batch.runs, batch.states, batch.prepared)
        return len(batch.states)
    except sa_exc.IntegrityError:
        pass
    written = 0
    for run in batch.runs:
        run_states = batch.states_by_run[run["id"]]
        try:
            async with connection.begin_nested():
                await _write(connection, [run], run_states)
            written += len(run_states)
        except sa_exc.IntegrityError as exc:
            logger.warning("Task run %s not recorded: %s", run["id"], exc.orig)
    return written


async def record_task_runs(connection: AsyncConnection, events: list[dict[str, Any]]) -> int:
    """Upsert the task runs and insert the states of the client task-run events among `events`; the number of
    states handled (see `write_task_runs`)."""
    return await write_task_runs(connection, prepare_task_runs(events, dialect_of(connection)))


def finished_runs(events: list[dict[str, Any]], prefix: str) -> list[uuid.UUID]:
    """The runs whose resource id starts with `prefix` that `events` show entering a terminal state: the concurrency
    slots they hold are given back (the client normally releases its own; this is the safety net for one that died)."""
    finished = []
    for event in events:
        resource = event["resource"]
        resource_id = resource[RESOURCE_ID]
        if resource.get("prefect.state-type") in TERMINAL_STATE_TYPES and resource_id.startswith(prefix):
            try:
                finished.append(uuid.UUID(resource_id[len(prefix) :]))
            except ValueError:
                continue
    return finished


def finished_task_runs(events: list[dict[str, Any]]) -> list[uuid.UUID]:
    """The task runs that `events` show entering a terminal state (see `finished_runs`)."""
    return finished_runs(events, TASK_RUN_RESOURCE_PREFIX)

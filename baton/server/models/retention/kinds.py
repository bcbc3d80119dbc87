"""The kinds of data Baton deletes when they pass their retention: for each, the setting that holds its days, how to
select the ids of its expired rows, and how to delete a batch of them with their dependents."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.tables import GLOBAL_TABLES
from baton.server.models.artifacts import delete_artifacts_where
from baton.server.models.retention import runs

if TYPE_CHECKING:
    from baton.server.database.engine import Database

ExpiredQuery = Callable[[dt.datetime], sa.Select[tuple[Any]]]
BatchDelete = Callable[[AsyncConnection, Sequence[Any]], Awaitable[int]]

FINISHED_DELIVERY_STATUSES = ("SENT", "FAILED")
UNFINISHED_ACTION_RUN_STATUSES = ("PENDING", "RUNNING")


@dataclass(frozen=True)
class RetentionKind:
    """One kind of data with a retention setting."""

    name: str
    description: str
    setting: str
    expired: ExpiredQuery
    delete_batch: BatchDelete
    #: The table of the kind's items (its dependents go with them).
    table: sa.Table
    # A row of this kind brings its dependents into its transaction: a flow run with its task runs, states and logs
    # is many rows, so a batch of runs is the batch size divided by this.
    rows_per_item: int = 1


def _delete_by_id(table: sa.Table) -> BatchDelete:
    async def delete_batch(connection: AsyncConnection, ids: Sequence[Any]) -> int:
        return (await connection.execute(sa.delete(table).where(table.c.id.in_(list(ids))))).rowcount

    return delete_batch


def _older_than(table: sa.Table, column: str) -> ExpiredQuery:
    def expired(cutoff: dt.datetime) -> sa.Select[tuple[Any]]:
        return sa.select(table.c.id).where(table.c[column] < cutoff)

    return expired


def _expired_artifacts(cutoff: dt.datetime) -> sa.Select[tuple[uuid.UUID]]:
    """Artifacts created before `cutoff` that belong to no existing run (a run's artifacts go with the run)."""
    artifact = t.artifact.c
    return sa.select(artifact.id).where(
        artifact.created < cutoff,
        ~sa.exists().where(t.flow_run.c.id == artifact.flow_run_id),
        ~sa.exists().where(t.task_run.c.id == artifact.task_run_id),
    )


async def _delete_artifacts(connection: AsyncConnection, ids: Sequence[uuid.UUID]) -> int:
    return await delete_artifacts_where(connection, t.artifact.c.id.in_(list(ids)))


def _expired_deliveries(cutoff: dt.datetime) -> sa.Select[tuple[uuid.UUID]]:
    """Deliveries that were sent or failed for good, created before `cutoff`."""
    delivery = t.notification_delivery.c
    return sa.select(delivery.id).where(delivery.status.in_(FINISHED_DELIVERY_STATUSES), delivery.created < cutoff)


def _expired_firings(cutoff: dt.datetime) -> sa.Select[tuple[uuid.UUID]]:
    """Firings before `cutoff` whose action runs all finished."""
    firing, action_run = t.automation_firing.c, t.automation_action_run.c
    return sa.select(firing.id).where(
        firing.occurred < cutoff,
        ~sa.exists().where(action_run.firing_id == firing.id, action_run.status.in_(UNFINISHED_ACTION_RUN_STATUSES)),
    )


async def _delete_firings(connection: AsyncConnection, ids: Sequence[uuid.UUID]) -> int:
    ids = list(ids)
    await connection.execute(sa.delete(t.automation_action_run).where(t.automation_action_run.c.firing_id.in_(ids)))
    return (await connection.execute(sa.delete(t.automation_firing).where(t.automation_firing.c.id.in_(ids)))).rowcount


# In the order a pass deletes them: runs first, so that their logs and artifacts go with them rather than one by one.
RETENTION_KINDS: tuple[RetentionKind, ...] = (
    RetentionKind(
        "flow_runs",
        "finished flow runs, with their task runs, states, inputs, logs and artifacts",
        "flow_runs_retention_days",
        runs.expired_flow_runs,
        runs.delete_flow_runs_batch,
        table=t.flow_run,
        rows_per_item=20,
    ),
    RetentionKind(
        "task_runs",
        "finished task runs outside any flow run, with their states, logs and artifacts",
        "flow_runs_retention_days",
        runs.expired_task_runs,
        runs.delete_task_runs_batch,
        table=t.task_run,
        rows_per_item=5,
    ),
    RetentionKind(
        "logs", "log lines", "logs_retention_days", _older_than(t.log, "timestamp"), _delete_by_id(t.log), table=t.log
    ),
    RetentionKind(
        "artifacts",
        "artifacts of no kept run",
        "artifacts_retention_days",
        _expired_artifacts,
        _delete_artifacts,
        table=t.artifact,
    ),
    RetentionKind(
        "events",
        "events (their related resources are part of the event)",
        "events_retention_days",
        _older_than(t.events, "occurred"),
        _delete_by_id(t.events),
        table=t.events,
    ),
    RetentionKind(
        "notification_deliveries",
        "sent or failed notification deliveries",
        "notifications_retention_days",
        _expired_deliveries,
        _delete_by_id(t.notification_delivery),
        table=t.notification_delivery,
    ),
    RetentionKind(
        "automation_firings",
        "automation firings whose actions finished, with their action runs",
        "automations_retention_days",
        _expired_firings,
        _delete_firings,
        table=t.automation_firing,
    ),
    RetentionKind(
        "audit_entries",
        "audit log entries",
        "audit_retention_days",
        _older_than(t.audit_entry, "occurred"),
        _delete_by_id(t.audit_entry),
        table=t.audit_entry,
    ),
)


def kinds_kept_in(database: Database) -> tuple[RetentionKind, ...]:
    """The kinds whose table `database` holds: all of them in the main database, those of workspace tables in a
    workspace's store (the audit log is global)."""
    if database.workspace_id is None:
        return RETENTION_KINDS
    return tuple(kind for kind in RETENTION_KINDS if kind.table not in GLOBAL_TABLES)

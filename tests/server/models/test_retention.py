"""Retention: each kind is deleted past its cutoff and kept before it, unfinished work is never deleted, 0 keeps
forever, a pass is bounded, and nothing left behind refers to a deleted row."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.database.tables.base import metadata
from baton.server.models.retention import RETENTION_KINDS, count_expired, prune_expired
from tests.server.models.retention_rows import Rows

DAYS = {
    "flow_runs": 90,
    "task_runs": 90,
    "logs": 30,
    "artifacts": 90,
    "events": 7,
    "notification_deliveries": 30,
    "automation_firings": 30,
    "audit_entries": 365,
}

# References to a row by id without a foreign key (the runs' tables take rows from the events pipeline in any order).
# The orphan check follows these as well as every foreign key of the metadata.
NON_FK_REFERENCES: list[tuple[sa.Column[Any], tuple[sa.Column[Any], ...]]] = [
    (t.flow_run.c.parent_task_run_id, (t.task_run.c.id,)),
    (t.flow_run.c.state_id, (t.flow_run_state.c.id,)),
    (t.task_run.c.state_id, (t.task_run_state.c.id,)),
    (t.task_run_state_cache.c.task_run_state_id, (t.task_run_state.c.id,)),
    (t.flow_run_state.c.result_artifact_id, (t.artifact.c.id,)),
    (t.task_run_state.c.result_artifact_id, (t.artifact.c.id,)),
    (t.log.c.flow_run_id, (t.flow_run.c.id,)),
    (t.log.c.task_run_id, (t.task_run.c.id,)),
    (t.artifact.c.flow_run_id, (t.flow_run.c.id,)),
    (t.artifact.c.task_run_id, (t.task_run.c.id,)),
    (t.artifact_collection.c.latest_id, (t.artifact.c.id,)),
    (t.artifact_collection.c.flow_run_id, (t.flow_run.c.id,)),
    (t.artifact_collection.c.task_run_id, (t.task_run.c.id,)),
    (t.notification_delivery.c.flow_run_id, (t.flow_run.c.id,)),
    (t.notification_delivery.c.flow_run_state_id, (t.flow_run_state.c.id,)),
    (t.concurrency_lease.c.holder_id, (t.flow_run.c.id, t.task_run.c.id)),
]


def _references() -> list[tuple[sa.Column[Any], tuple[sa.Column[Any], ...]]]:
    foreign_keys = [(key.parent, (key.column,)) for table in metadata.sorted_tables for key in table.foreign_keys]
    return foreign_keys + NON_FK_REFERENCES


async def find_orphans(database: Database) -> list[str]:
    """Every reference (foreign key or known id column) whose row is gone."""
    orphans = []
    async with database.read() as connection:
        for column, targets in _references():
            missing = sa.and_(column.is_not(None), *(~sa.exists().where(target == column) for target in targets))
            count = await connection.scalar(sa.select(sa.func.count()).select_from(column.table).where(missing))
            if count:
                orphans.append(f"{column.table.name}.{column.name}: {count}")
    return orphans


async def _ids(database: Database, table: sa.Table) -> set[uuid.UUID]:
    async with database.read() as connection:
        return set(await connection.scalars(sa.select(table.c.id)))


async def seed(database: Database) -> dict[str, uuid.UUID]:
    """One row of each case, named; `old_*` are past their kind's retention, `new_*` within it."""
    async with database.write() as connection:
        rows = Rows(connection)
        ids: dict[str, uuid.UUID] = {}
        ids["old_run"] = await rows.flow_run("COMPLETED", 100)
        ids["old_task"] = await rows.task_run(ids["old_run"], "COMPLETED", 100)
        ids["subflow"] = await rows.flow_run("RUNNING", None, parent_task_run_id=ids["old_task"])
        ids["new_run"] = await rows.flow_run("COMPLETED", 10)
        ids["new_task"] = await rows.task_run(ids["new_run"], "COMPLETED", 10)
        ids["unfinished_run"] = await rows.flow_run("RUNNING", None)
        ids["leased_run"] = await rows.flow_run("FAILED", 200)
        await rows.lease(ids["leased_run"])
        ids["old_standalone_task"] = await rows.task_run(None, "COMPLETED", 100)
        ids["unfinished_standalone_task"] = await rows.task_run(None, "RUNNING", None)
        await rows.insert(t.flow_run_input, flow_run_id=ids["old_run"], key="answer", value="42")
        ids["old_run_log"] = await rows.log(100, ids["old_run"])
        ids["old_task_log"] = await rows.log(100, ids["old_run"], ids["old_task"])
        ids["old_log_of_new_run"] = await rows.log(40, ids["new_run"])
        ids["new_log"] = await rows.log(1, ids["new_run"], ids["new_task"])
        # Two versions of one key: the newer belongs to the expired run, so the collection falls back to the older.
        ids["older_version"] = await rows.artifact(95, key="report", flow_run_id=ids["new_run"])
        ids["old_run_artifact"] = await rows.artifact(94, key="report", flow_run_id=ids["old_run"])
        ids["old_task_artifact"] = await rows.artifact(94, task_run_id=ids["old_task"])
        ids["old_loose_artifact"] = await rows.artifact(100, key="loose")
        ids["new_loose_artifact"] = await rows.artifact(10)
        ids["old_event"] = await rows.event(8)
        ids["new_event"] = await rows.event(1)
        ids["old_sent"] = await rows.delivery(40, "SENT", ids["new_run"])
        ids["old_pending"] = await rows.delivery(40, "PENDING", ids["new_run"])
        ids["new_failed"] = await rows.delivery(1, "FAILED", ids["new_run"])
        ids["old_run_delivery"] = await rows.delivery(1, "SENT", ids["old_run"])
        ids["old_firing"] = await rows.firing(40, "SUCCEEDED")
        ids["old_unfinished_firing"] = await rows.firing(40, "PENDING")
        ids["new_firing"] = await rows.firing(1, "SUCCEEDED")
        ids["old_audit"] = await rows.audit_entry(400)
        ids["new_audit"] = await rows.audit_entry(1)
    return ids


async def test_each_kind_is_deleted_past_its_retention_with_its_dependents_and_nothing_is_orphaned(
    database: Database,
) -> None:
    ids = await seed(database)

    pruned = await prune_expired(database, DAYS, batch_size=1000, max_batches=10)

    assert {kind.kind.name: kind.rows for kind in pruned} == {
        "flow_runs": 1,
        "task_runs": 1,
        "logs": 1,
        "artifacts": 1,
        "events": 1,
        "notification_deliveries": 1,
        "automation_firings": 1,
        "audit_entries": 1,
    }
    assert all(kind.complete for kind in pruned)
    assert await _ids(database, t.flow_run) == {ids[n] for n in ("subflow", "new_run", "unfinished_run", "leased_run")}
    assert await _ids(database, t.task_run) == {ids["new_task"], ids["unfinished_standalone_task"]}
    assert await _ids(database, t.flow_run_input) == set()
    assert await _ids(database, t.log) == {ids["new_log"]}
    assert await _ids(database, t.artifact) == {ids["older_version"], ids["new_loose_artifact"]}
    assert await _ids(database, t.events) == {ids["new_event"]}
    assert await _ids(database, t.notification_delivery) == {ids["old_pending"], ids["new_failed"]}
    assert await _ids(database, t.automation_firing) == {ids["old_unfinished_firing"], ids["new_firing"]}
    assert await _ids(database, t.audit_entry) == {ids["new_audit"]}
    async with database.read() as connection:
        collections = dict(
            (await connection.execute(sa.select(t.artifact_collection.c.key, t.artifact_collection.c.latest_id))).all()
        )
        parent = await connection.scalar(
            sa.select(t.flow_run.c.parent_task_run_id).where(t.flow_run.c.id == ids["subflow"])
        )
    assert collections == {"report": ids["older_version"]}
    assert parent is None
    assert await find_orphans(database) == []


async def test_zero_keeps_forever_and_a_dry_run_counts_without_deleting(database: Database) -> None:
    await seed(database)
    before = {table.name: len(await _ids(database, table)) for table in (t.flow_run, t.log, t.events, t.audit_entry)}

    counted = await count_expired(database, DAYS)
    pruned = await prune_expired(database, dict.fromkeys(DAYS, 0), batch_size=1000, max_batches=10)

    assert {kind.kind.name: kind.rows for kind in counted} == dict.fromkeys(DAYS, 1) | {"logs": 3}
    assert [kind.rows for kind in pruned] == [0] * len(RETENTION_KINDS)
    after = {table.name: len(await _ids(database, table)) for table in (t.flow_run, t.log, t.events, t.audit_entry)}
    assert after == before


async def test_a_pass_stops_at_its_cap_and_the_next_one_goes_on(database: Database) -> None:
    async with database.write() as connection:
        rows = Rows(connection)
        for _ in range(7):
            await rows.event(30)
    days = dict.fromkeys(DAYS, 0) | {"events": 7}

    first = await prune_expired(database, days, batch_size=2, max_batches=2)
    second = await prune_expired(database, days, batch_size=2, max_batches=5)

    events_first = next(kind for kind in first if kind.kind.name == "events")
    events_second = next(kind for kind in second if kind.kind.name == "events")
    assert (events_first.rows, events_first.complete) == (4, False)
    assert (events_second.rows, events_second.complete) == (3, True)
    assert await _ids(database, t.events) == set()

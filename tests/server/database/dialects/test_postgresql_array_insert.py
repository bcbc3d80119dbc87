"""Parity of the PostgreSQL array insert (`PostgreSQLDialect.prepare_insert`) with the base dialect's executemany of
the dialect INSERT: the recorder's rows, written in two batches with repeated ids, an older and a newer state, runs
with and without a flow run, end in the same tables either way."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.dialects.base import DatabaseDialect, OnConflict, PreparedInsert
from baton.server.database.engine import Database
from baton.server.models.events.events import SKIP_STORED, event_rows
from baton.server.models.runs.task_run_recorder import NEWER_STATE_WINS, prepare_task_runs
from tests.pipeline import task_run_event

START = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
Prepare = Callable[[sa.Table, list[dict[str, Any]], OnConflict], PreparedInsert]


def _at(seconds: int) -> dt.datetime:
    return START + dt.timedelta(seconds=seconds)


def _batches(flow_run_id: uuid.UUID) -> list[list[dict[str, Any]]]:
    first, second, orphan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    running = task_run_event(first, flow_run_id, "Running", _at(2), tags=("a", "b"))
    without_flow_run = task_run_event(orphan, flow_run_id, "Pending", _at(0))
    without_flow_run["related"] = []
    without_flow_run["payload"]["validated_state"]["data"] = {"nested": [1, "two", None]}
    batches = [
        [running, task_run_event(second, flow_run_id, "Pending", _at(1)), without_flow_run],
        [
            without_flow_run,  # redelivered: its event and state are skipped, its run unchanged
            task_run_event(first, flow_run_id, "Pending", _at(1)),  # older: history only
            task_run_event(second, flow_run_id, "Completed", _at(3), run_count=2),  # newer: the run takes it
        ],
    ]
    return [[{**event, "received": _at(5).isoformat()} for event in events] for events in batches]


def _inserts(dialect: DatabaseDialect, prepare: Prepare, events: list[dict[str, Any]]) -> list[PreparedInsert]:
    task_runs = prepare_task_runs(events, dialect)
    return [
        prepare(t.events, event_rows(events), SKIP_STORED),
        prepare(t.task_run, task_runs.runs, NEWER_STATE_WINS),
        prepare(t.task_run_state, task_runs.states, SKIP_STORED),
    ]


async def _write_and_read(
    database: Database, prepare: Prepare, batches: list[list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    for events in batches:
        inserts = _inserts(database.dialect, prepare, events)
        async with database.write() as connection:
            for insert in inserts:
                await insert.execute(connection)
    rows = {}
    async with database.write() as connection:
        for table in (t.events, t.task_run, t.task_run_state):
            result = await connection.execute(sa.select(table).order_by(table.c.id))
            # Stamped with the time the rows were built, which differs between the two writes.
            rows[table.name] = [
                {k: v for k, v in row.items() if k not in ("created", "updated", "recorded")}
                for row in result.mappings()
            ]
        for table in (t.task_run_state, t.task_run, t.events):
            await connection.execute(sa.delete(table))
    return rows


async def test_the_array_insert_writes_what_the_base_insert_writes(database: Database) -> None:
    if database.dialect.name != "postgresql":
        pytest.skip("the array insert is PostgreSQL's")
    flow_id, flow_run_id = uuid.uuid4(), uuid.uuid4()
    async with database.write() as connection:
        await connection.execute(sa.insert(t.flow).values(id=flow_id, name="flow", tags=[]))
        await connection.execute(sa.insert(t.flow_run).values(id=flow_run_id, flow_id=flow_id, name="run"))
    batches = _batches(flow_run_id)
    dialect = database.dialect

    def base(table: sa.Table, rows: list[dict[str, Any]], on_conflict: OnConflict) -> PreparedInsert:
        return DatabaseDialect.prepare_insert(dialect, table, rows, on_conflict)

    by_array = await _write_and_read(database, dialect.prepare_insert, batches)
    by_base = await _write_and_read(database, base, batches)

    assert isinstance(_inserts(dialect, dialect.prepare_insert, batches[0])[0].statement, sa.TextClause)
    assert by_array == by_base
    assert len(by_array["events"]) == 5 and len(by_array["task_run_state"]) == 5
    runs = {row["state_name"]: row for row in by_array["task_run"]}
    assert set(runs) == {"Running", "Completed", "Pending"}  # the older Pending did not move the first run back
    assert runs["Completed"]["run_count"] == 2 and runs["Pending"]["flow_run_id"] is None
    assert runs["Running"]["tags"] == ["a", "b"]

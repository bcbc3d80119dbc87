"""The recorder's writes on each database (PostgreSQL inserts batches from arrays, SQLite by executemany): every column
comes back as written, a repeated id is stored once, and a run keeps its newest state whatever the batch order."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.events.event_queries import read_events_by_id
from baton.server.models.events.events import event_from_row, write_events
from baton.server.models.runs.task_run_recorder import record_task_runs
from tests.pipeline import task_run_event


async def _flow_run(database: Database) -> uuid.UUID:
    flow_id, run_id, now = uuid.uuid4(), uuid.uuid4(), dt.datetime.now(dt.UTC)
    async with database.write() as connection:
        await connection.execute(sa.insert(t.flow).values(id=flow_id, name=f"flow-{flow_id}", tags=[]))
        await connection.execute(
            sa.insert(t.flow_run).values(id=run_id, flow_id=flow_id, name="run", created=now, updated=now)
        )
    return run_id


async def test_events_come_back_as_written_and_a_repeated_id_is_stored_once(database: Database) -> None:
    occurred = dt.datetime(2026, 11, 25, 12, 30, 1, 123456, tzinfo=dt.UTC)
    odd: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "occurred": occurred.isoformat(),
        "event": "test.quotes'and\"back\\slash",
        "resource": {"prefect.resource.id": "test.ü.1", "x": '{"not": json}'},
        "related": [{"prefect.resource.id": "test.r", "prefect.resource.role": "role"}],
        "payload": {"nested": {"list": [1, 2.5, None, "ünïcode"], "empty": {}}, "null": None},
        "follows": str(uuid.uuid4()),
        "received": (occurred + dt.timedelta(seconds=1)).isoformat(),
    }
    plain: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "occurred": "2026-11-25T12:30:01Z",
        "event": "test.plain",
        "resource": {"prefect.resource.id": "test.plain"},
    }
    async with database.write() as connection:
        await write_events(connection, [odd, plain, dict(odd, event="test.second-copy")])
    async with database.write() as connection:
        await write_events(connection, [dict(plain, event="test.redelivered")])
    async with database.read() as connection:
        rows = {str(row["id"]): row for row in (await connection.execute(sa.select(t.events))).mappings()}
    assert set(rows) == {odd["id"], plain["id"]}
    stored = event_from_row(rows[odd["id"]])
    assert stored == {
        **odd,
        "id": uuid.UUID(odd["id"]),
        "occurred": occurred,
        "follows": uuid.UUID(odd["follows"]),
        "received": occurred + dt.timedelta(seconds=1),
    }
    assert rows[odd["id"]]["resource_id"] == "test.ü.1"
    assert rows[odd["id"]]["related_resource_ids"] == ["test.r"]
    assert event_from_row(rows[plain["id"]])["event"] == "test.plain"
    assert rows[plain["id"]]["payload"] == {} and rows[plain["id"]]["related"] == []
    assert rows[plain["id"]]["follows"] is None
    assert rows[plain["id"]]["occurred"] == dt.datetime(2026, 11, 25, 12, 30, 1, tzinfo=dt.UTC)


async def test_a_run_keeps_its_newest_state_within_and_across_batches(database: Database) -> None:
    flow_run_id, task_run_id = await _flow_run(database), uuid.uuid4()
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    pending, running, completed = (
        task_run_event(task_run_id, flow_run_id, state, start + dt.timedelta(seconds=step), tags=("a", "b"))
        for step, state in enumerate(("Pending", "Running", "Completed"))
    )
    async with database.write() as connection:
        assert await record_task_runs(connection, [running, pending]) == 2
    async with database.write() as connection:
        assert await record_task_runs(connection, [completed]) == 1
    async with database.write() as connection:  # late redeliveries of older states
        assert await record_task_runs(connection, [pending, running, pending]) == 3
    async with database.read() as connection:
        run = (await connection.execute(sa.select(t.task_run))).mappings().one()
        states = (await connection.execute(sa.select(t.task_run_state))).mappings().all()
    assert run["id"] == task_run_id and run["flow_run_id"] == flow_run_id
    assert (run["state_type"], run["state_name"]) == ("COMPLETED", "Completed")
    assert run["state_id"] == uuid.UUID(completed["id"])
    assert run["state_timestamp"] == start + dt.timedelta(seconds=2)
    assert run["start_time"] == start + dt.timedelta(seconds=2)
    assert (run["tags"], run["task_inputs"], run["labels"]) == (["a", "b"], {"x": []}, {})
    assert run["empirical_policy"] == {"retries": 0, "retry_delay": 0}
    assert run["cache_expiration"] is None and run["total_run_time"] == 0.0
    assert sorted(state["type"] for state in states) == ["COMPLETED", "PENDING", "RUNNING"]
    by_id = {str(state["id"]): state for state in states}
    assert by_id[pending["id"]]["state_details"] == {"task_run_id": str(task_run_id), "flow_run_id": str(flow_run_id)}
    assert by_id[pending["id"]]["data"] is None and by_id[pending["id"]]["message"] == ""


async def test_the_events_of_one_batch_are_read_back_in_the_order_they_occurred(database: Database) -> None:
    """One batch shares its `recorded` time, so the live stream's read must order it by `occurred`, not by the random
    ids: the official client stops reading at a run's terminal event and would drop a Running event sorted after it."""
    start = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)
    ids = sorted((uuid.uuid4() for _ in range(6)), key=lambda event_id: event_id.int, reverse=True)
    batch = [
        {
            "id": str(event_id),
            "occurred": (start + dt.timedelta(milliseconds=index)).isoformat(),
            "event": f"test.step-{index}",
            "resource": {"prefect.resource.id": "test.run"},
        }
        for index, event_id in enumerate(ids)
    ]
    async with database.write() as connection:
        await write_events(connection, batch)
    async with database.read() as connection:
        events = await read_events_by_id(connection, ids)
    assert [event["event"] for event in events] == [f"test.step-{index}" for index in range(6)]

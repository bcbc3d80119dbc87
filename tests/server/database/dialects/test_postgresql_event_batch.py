"""`record_events` on a batch's JSON text: on PostgreSQL one statement records the plain events and leaves the rest to
the Python recorder; whatever path a batch takes, the rows are those the Python recorder alone writes."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import logging
import uuid
from typing import Any

import dramatiq
import orjson
import pytest
import sqlalchemy as sa
from dramatiq.brokers.stub import StubBroker

from baton.actors import events as event_actors
from baton.actors.runtime import ActorRuntime
from baton.server.database import tables as t
from baton.server.database.dialects.base import AfterRecording, DatabaseDialect
from baton.server.database.dialects.postgresql_event_batch import execute_batch_statement, like_patterns
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.events.recorder import record_events_in_python
from tests.pipeline import task_run_event

START = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
# Columns stamped with the time of writing, which differs between two recordings of the same batch.
WRITE_TIMES = {"created", "updated", "recorded"}


@pytest.fixture
def actor_runtime(database: Database) -> ActorRuntime:
    broker: dramatiq.Broker = StubBroker()
    return ActorRuntime(None, broker, database)


async def _flow_run(database: Database) -> uuid.UUID:
    flow_id, run_id = uuid.uuid4(), uuid.uuid4()
    async with database.write() as connection:
        await connection.execute(sa.insert(t.flow).values(id=flow_id, name=f"flow-{flow_id}", tags=[]))
        await connection.execute(sa.insert(t.flow_run).values(id=run_id, flow_id=flow_id, name="run"))
    return run_id


def _queued(event: dict[str, Any], received: dt.datetime = START) -> dict[str, Any]:
    return {**event, "received": received.isoformat()}


def _mixed_batch(flow_run_id: uuid.UUID) -> list[dict[str, Any]]:
    """Plain events of three runs (out of order, one repeated), and events the statement leaves to Python."""
    first, second, third, odd, refused = (uuid.uuid4() for _ in range(5))

    def at(seconds: int) -> dt.datetime:
        return START + dt.timedelta(seconds=seconds)

    batch = [
        task_run_event(first, flow_run_id, "Running", at(1), tags=("a",)),
        task_run_event(first, flow_run_id, "Pending", at(0), tags=("a",)),
        task_run_event(second, flow_run_id, "Pending", at(2)),
        task_run_event(third, flow_run_id, "Failed", at(3)),
    ]
    batch.append(copy.deepcopy(batch[2]))  # the same event twice
    # No flow-run related resource, a time without a zone, a state with details: still plain.
    loose = task_run_event(second, flow_run_id, "Completed", at(4))
    loose["related"] = []
    loose["payload"]["task_run"]["end_time"] = "2026-11-25T12:00:04"
    loose["payload"]["validated_state"]["state_details"] = {"cache_key": "k", "flow_run_id": "overwritten"}
    batch.append(loose)
    # Not plain: a run count written as a string, a name of an empty string, no tags (the Python rules apply).
    not_plain = task_run_event(odd, flow_run_id, "Running", at(5))
    not_plain["payload"]["task_run"].update(run_count="2", name="")
    del not_plain["payload"]["task_run"]["tags"]
    batch.append(not_plain)
    # Not recordable as a task run (no task_key): stored as an event only, and the reason is logged.
    unrecordable = task_run_event(refused, flow_run_id, "Running", at(6))
    del unrecordable["payload"]["task_run"]["task_key"]
    batch.append(unrecordable)
    # Events that are not client task-run events.
    server_side = task_run_event(uuid.uuid4(), flow_run_id, "Running", at(7))
    server_side["resource"]["prefect.orchestration"] = "server"
    batch.append(server_side)
    batch.append(
        {
            "id": str(uuid.uuid4()),
            "occurred": at(8).isoformat(),
            "event": "custom.thing",
            "resource": {"prefect.resource.id": "custom.1"},
            "related": [],
            "payload": {"n": 1},
            "follows": batch[0]["id"],
        }
    )
    return [_queued(event) for event in batch]


async def _rows(database: Database) -> dict[str, list[dict[str, Any]]]:
    tables = {"events": t.events, "task_run": t.task_run, "task_run_state": t.task_run_state}
    rows = {}
    async with database.read() as connection:
        for name, table in tables.items():
            result = await connection.execute(sa.select(table).order_by(table.c.id))
            rows[name] = [{k: v for k, v in row.items() if k not in WRITE_TIMES} for row in result.mappings()]
    return rows


async def _wipe(database: Database) -> None:
    async with database.write() as connection:
        for table in (t.task_run_state, t.task_run, t.events):
            await connection.execute(sa.delete(table))


async def test_a_batch_text_is_recorded_as_the_python_recorder_records_it(
    database: Database, actor_runtime: ActorRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    batch = _mixed_batch(await _flow_run(database))
    with caplog.at_level(logging.WARNING, logger="baton.recorder"):
        await event_actors.record_events(actor_runtime, orjson.dumps(batch).decode())
    assert [record.getMessage() for record in caplog.records] == [
        f"Task-run event {batch[7]['id']} not recorded as a task run: payload.task_run lacks task_key or dynamic_key"
    ]
    from_text = await _rows(database)
    await _wipe(database)
    await record_events_in_python(database, batch)
    assert from_text == await _rows(database)

    assert len(from_text["events"]) == len(batch) - 1  # the repeated event once
    assert len(from_text["task_run"]) == 4 and len(from_text["task_run_state"]) == 6
    completed = next(row for row in from_text["task_run"] if row["state_type"] == "COMPLETED")
    assert completed["end_time"] == START + dt.timedelta(seconds=4)  # no zone: UTC
    odd = next(row for row in from_text["task_run"] if row["run_count"] == 2)
    assert odd["tags"] == [] and odd["name"] == "add-1"  # the resource's name stands in for the empty one
    details = {str(row["id"]): row["state_details"] for row in from_text["task_run_state"]}
    loose = batch[5]  # no flow-run related resource: the details keep their own flow_run_id
    assert details[loose["id"]] == {
        "cache_key": "k",
        "flow_run_id": "overwritten",
        "task_run_id": str(_task_run_id(loose)),
    }


async def test_the_statement_leaves_what_is_not_plain_and_names_the_finished_runs(database: Database) -> None:
    if database.dialect.name != "postgresql":
        pytest.skip("the batch statement is PostgreSQL's")
    batch = _mixed_batch(await _flow_run(database))
    async with database.write() as connection:
        recorded = await execute_batch_statement(connection, orjson.dumps(batch).decode(), utcnow())
    assert recorded.left_over == [6, 7]
    failed, completed = (batch[3], batch[5])
    assert sorted(recorded.finished) == sorted({_task_run_id(failed), _task_run_id(completed)})


def _task_run_id(event: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(event["resource"]["prefect.resource.id"].removeprefix("prefect.task-run."))


async def test_a_batch_postgresql_refuses_is_recorded_by_the_python_recorder(
    database: Database, actor_runtime: ActorRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    flow_run_id = await _flow_run(database)
    good, bad = uuid.uuid4(), uuid.uuid4()
    impossible = task_run_event(bad, flow_run_id, "Running", START)
    impossible["payload"]["task_run"]["start_time"] = "2026-02-30T12:00:00Z"
    batch = [_queued(task_run_event(good, flow_run_id, "Running", START)), _queued(impossible)]
    with caplog.at_level(logging.INFO):
        await event_actors.record_events(actor_runtime, orjson.dumps(batch).decode())
    rows = await _rows(database)
    assert {row["id"] for row in rows["events"]} == {uuid.UUID(event["id"]) for event in batch}
    assert [row["id"] for row in rows["task_run"]] == [good]
    messages = [record.getMessage() for record in caplog.records]
    assert any(f"Task-run event {impossible['id']} not recorded as a task run" in message for message in messages)
    if database.dialect.name == "postgresql":
        assert any(message.startswith("Recording a batch of events row by row") for message in messages)


async def test_frames_queued_as_their_text_are_recorded_as_their_decoded_events(
    database: Database, actor_runtime: ActorRuntime
) -> None:
    """The websocket queues a plain event as its frame's text with the fields it changes appended: repeated keys,
    the last of which counts for PostgreSQL's jsonb as for Python."""
    from baton.server.api.events_in import plainly_valid_event, plainly_valid_event_text

    flow_run_id, task_run_id = await _flow_run(database), uuid.uuid4()
    frames = []
    for step, state in enumerate(("Pending", "Running", "Completed")):
        event = task_run_event(task_run_id, flow_run_id, state, START + dt.timedelta(seconds=step))
        event["id"] = event["id"].upper()
        event["occurred"] = event["occurred"].replace("+00:00", "Z")
        frames.append(orjson.dumps(event).decode())
    received = START.isoformat()
    as_text = [plainly_valid_event_text(frame, orjson.loads(frame), received) for frame in frames]
    assert all(isinstance(queued, orjson.Fragment) for queued in as_text)
    await event_actors.record_events(actor_runtime, orjson.dumps(as_text).decode())
    from_text = await _rows(database)
    await _wipe(database)
    await record_events_in_python(database, [plainly_valid_event(orjson.loads(frame), received) for frame in frames])
    assert from_text == await _rows(database)
    assert [str(row["id"]) for row in from_text["events"]] == sorted(orjson.loads(f)["id"].lower() for f in frames)
    assert from_text["task_run"][0]["state_type"] == "COMPLETED"


async def test_batches_are_recorded_by_the_dialect_as_by_the_python_recorder(database: Database) -> None:
    """The dialect's `record_event_batch` against the base one (the Python recorder), over two batches: the second
    redelivers an event of the first and brings a state older than a stored one, a newer one, and more states of a
    task run that has no flow run."""
    flow_run_id = await _flow_run(database)
    first, second, orphan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def without_flow_run(event: dict[str, Any]) -> dict[str, Any]:
        event["related"] = []
        return event

    pending = task_run_event(second, flow_run_id, "Pending", START + dt.timedelta(seconds=1))
    batches = [
        [
            task_run_event(first, flow_run_id, "Running", START + dt.timedelta(seconds=2), tags=("a",)),
            pending,
            without_flow_run(task_run_event(orphan, flow_run_id, "Pending", START)),
        ],
        [
            copy.deepcopy(pending),
            task_run_event(first, flow_run_id, "Pending", START + dt.timedelta(seconds=1)),
            task_run_event(second, flow_run_id, "Completed", START + dt.timedelta(seconds=3)),
            without_flow_run(task_run_event(orphan, flow_run_id, "Running", START + dt.timedelta(seconds=4))),
        ],
    ]
    batches = [[_queued(event) for event in batch] for batch in batches]
    for batch in batches:
        await database.dialect.record_event_batch(database, orjson.dumps(batch).decode())
    by_dialect = await _rows(database)
    await _wipe(database)
    for batch in batches:
        await DatabaseDialect.record_event_batch(database.dialect, database, batch)
    assert by_dialect == await _rows(database)

    assert len(by_dialect["events"]) == 6 and len(by_dialect["task_run_state"]) == 6
    runs = {row["id"]: row for row in by_dialect["task_run"]}
    assert runs[first]["state_name"] == "Running" and runs[first]["tags"] == ["a"]
    assert runs[second]["state_type"] == "COMPLETED"
    assert runs[orphan]["state_name"] == "Running" and runs[orphan]["flow_run_id"] is None


def _custom(name: str, seconds: int, **payload: Any) -> dict[str, Any]:
    occurred = START + dt.timedelta(seconds=seconds)
    return _queued(
        {
            "id": str(uuid.uuid4()),
            "occurred": occurred.isoformat(),
            "event": name,
            "resource": {"prefect.resource.id": f"custom.{seconds}"},
            "related": [],
            "payload": payload,
        }
    )


@pytest.mark.parametrize("recorder", ["dialect", "python"])
async def test_the_recording_transaction_hands_over_the_new_events_whose_names_are_asked_for(
    database: Database, recorder: str
) -> None:
    """`then` runs in the recording transaction with the batch's events that were not stored before, as queued (the
    first of a repeated id), at least those whose names match its patterns (`*`, `?`; `_` and `%` are plain
    characters); a redelivered batch hands over none of them, a batch whose transaction rolled back all of them."""
    flow_run_id = await _flow_run(database)
    wanted = _custom("a_b.done", 1, detail={"nested": [1, 2.5, "x"]})
    other = _custom("a_b.started", 2)
    lookalike = _custom("axb.done", 3)  # matches `a_b.*` only if `_` were a wildcard
    task = _queued(task_run_event(uuid.uuid4(), flow_run_id, "Completed", START + dt.timedelta(seconds=4)))
    repeated = copy.deepcopy(wanted)
    repeated["payload"] = {"second": True}  # the same id again: the first one counts
    batch = [wanted, other, lookalike, task, repeated]
    record = (
        database.dialect.record_event_batch
        if recorder == "dialect"
        else functools.partial(DatabaseDialect.record_event_batch, database.dialect)
    )
    handed: list[list[dict[str, Any]]] = []

    async def then(connection: Any, new_events: list[dict[str, Any]]) -> None:
        handed.append(new_events)
        stored = (await connection.execute(sa.select(sa.func.count()).select_from(t.events))).scalar()
        assert stored == 4  # in the same transaction, after the insert

    after = AfterRecording(then, ("a_b.d*", "prefect.task-run.Complete?"))

    async def failing(connection: Any, new_events: list[dict[str, Any]]) -> None:
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await record(database, orjson.dumps(batch).decode(), AfterRecording(failing, after.names))
    await record(database, orjson.dumps(batch).decode(), after)
    await record(database, orjson.dumps(batch).decode(), after)  # redelivered after its commit

    def asked_for(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted((e for e in events if e["event"] in ("a_b.done", "prefect.task-run.Completed")), key=str)

    assert asked_for(handed[0]) == sorted([wanted, task], key=str)
    assert handed[1] == []
    if recorder == "dialect" and database.dialect.name == "postgresql":
        assert sorted(handed[0], key=str) == sorted([wanted, task], key=str)  # the others were not even decoded


def test_event_name_globs_as_like_patterns() -> None:
    assert like_patterns(["prefect.flow-run.*", "a_b%c?", "x\\y"]) == ["a\\_b\\%c_", "prefect.flow-run.%", "x\\\\y"]
    assert like_patterns(["x", "[ab].y"]) == ["%"]  # a character class: every name, left to the caller's matching
    assert like_patterns(["!x"]) == ["%"]
    assert like_patterns(None) == ["%"]

"""Events in: the websocket /api/events/in and POST /api/events, through the queue to the database."""

# The pipeline's fixtures (settings, server_context, pipeline) are imported from tests/pipeline.py and taken as
# parameters by name, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from typing import Any

import httpx
import orjson
import pydantic
import pytest
import sqlalchemy as sa
import websockets
from websockets.asyncio.client import connect

from baton.server.context import ServerContext
from baton.server.database import tables as t
from baton.server.schemas.events import (
    MAX_EVENT_BYTES,
    MAX_EVENT_NAME_LENGTH,
    MAX_LABELS_PER_RESOURCE,
    MAX_RELATED_RESOURCES,
    RESOURCE_ID,
    RESOURCE_ROLE,
)
from tests.pipeline import (  # noqa: F401  (fixtures)
    create_flow_run,
    events_in_url,
    eventually,
    pipeline,
    pipeline_settings,
    running_pipeline,
    server_context,
    settings,
    stored_event_ids,
    task_run_event,
)


def _plain_event(name: str = "test.something.happened", **overrides: Any) -> dict[str, Any]:
    event = {
        "id": str(uuid.uuid4()),
        "occurred": dt.datetime.now(dt.UTC).isoformat(),
        "event": name,
        "resource": {"prefect.resource.id": "test.resource.1"},
    }
    event.update(overrides)
    return event


async def _stored(pipeline: ServerContext, *ids: str) -> bool:
    return set(ids) <= await stored_event_ids(pipeline)


async def test_prefect_subprotocol_handshake_then_events_are_recorded(
    base_url: str, pipeline: ServerContext, client: httpx.AsyncClient
) -> None:
    flow_run = await create_flow_run(client)
    task_run_id = uuid.uuid4()
    now = dt.datetime.now(dt.UTC)
    events = [
        task_run_event(task_run_id, uuid.UUID(flow_run["id"]), "Pending", now),
        task_run_event(task_run_id, uuid.UUID(flow_run["id"]), "Running", now + dt.timedelta(seconds=1)),
        task_run_event(task_run_id, uuid.UUID(flow_run["id"]), "Completed", now + dt.timedelta(seconds=2)),
    ]
    async with connect(events_in_url(base_url), subprotocols=["prefect"]) as socket:
        assert socket.subprotocol == "prefect"
        await socket.send(json.dumps({"type": "auth", "token": None}))
        assert json.loads(await socket.recv()) == {"type": "auth_success"}
        for event in events:
            await socket.send(json.dumps(event))
        await socket.ping()

    await eventually(lambda: _stored(pipeline, *(event["id"] for event in events)))
    run = (await client.get(f"/task_runs/{task_run_id}")).json()
    assert run["state"]["name"] == "Completed"
    assert run["state"]["id"] == events[-1]["id"]
    assert run["flow_run_id"] == flow_run["id"]
    assert run["task_key"] == "add-abc123"
    history = (await client.get("/task_run_states/", params={"task_run_id": str(task_run_id)})).json()
    assert [state["name"] for state in history] == ["Pending", "Running", "Completed"]


async def test_legacy_mode_without_subprotocol_takes_events_directly(base_url: str, pipeline: ServerContext) -> None:
    event = _plain_event()
    async with connect(events_in_url(base_url)) as socket:
        assert socket.subprotocol is None
        await socket.send(json.dumps(event))
    await eventually(lambda: _stored(pipeline, event["id"]))


async def test_an_unknown_subprotocol_is_refused_with_a_reason(base_url: str) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(events_in_url(base_url), subprotocols=["graphql-ws"]):
            pass
    assert refused.value.response.status_code == 400
    assert b"graphql-ws" in refused.value.response.body
    assert b"'prefect'" in refused.value.response.body


@pytest.mark.parametrize("hello", ['{"type": "event"}', "not json", '{"type": "auth"}', "[]"])
async def test_a_bad_handshake_closes_the_socket_with_1008(base_url: str, hello: str) -> None:
    async with connect(events_in_url(base_url), subprotocols=["prefect"]) as socket:
        await socket.send(hello)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert "auth" in closed.value.rcvd.reason


async def test_bad_events_are_dropped_and_the_socket_stays_usable(
    base_url: str, pipeline: ServerContext, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    good_before, good_after = _plain_event(), _plain_event()
    oversized = _plain_event(payload={"blob": "x" * (MAX_EVENT_BYTES + 10)})
    bad = [
        "{not json",
        json.dumps(_plain_event(resource={"name": "no id"})),
        json.dumps(_plain_event(name="x" * 1025)),
        json.dumps(_plain_event(id="not-a-uuid")),
        json.dumps({**_plain_event(), "related": [{"prefect.resource.id": "r"}]}),
        json.dumps(oversized),
    ]
    async with connect(events_in_url(base_url), subprotocols=["prefect"], max_size=None) as socket:
        await socket.send(json.dumps({"type": "auth", "token": "anything"}))
        await socket.recv()
        await socket.send(json.dumps(good_before))
        for frame in bad:
            await socket.send(frame)
        await socket.send(json.dumps(good_after))
        pong = await socket.ping()
        await pong  # the socket still answers

    await eventually(lambda: _stored(pipeline, good_before["id"], good_after["id"]))
    stored = await stored_event_ids(pipeline)
    assert oversized["id"] not in stored
    assert len(stored) == 2
    reasons = [record.getMessage() for record in caplog.records if record.name == "baton.events"]
    assert len([reason for reason in reasons if reason.startswith("Dropped an event")]) == len(bad)
    assert any("prefect.resource.id" in reason for reason in reasons)
    assert any(f"at most {MAX_EVENT_BYTES}" in reason for reason in reasons)
    assert (await client.get("/health")).json() is True


async def test_a_frame_beyond_the_frame_limit_closes_with_1009(base_url: str) -> None:
    async with connect(events_in_url(base_url), max_size=None) as socket:
        await socket.send("x" * (2 * MAX_EVENT_BYTES + 1))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_post_events_records_a_batch_once_even_when_sent_twice(
    client: httpx.AsyncClient, pipeline: ServerContext
) -> None:
    batch = [_plain_event() for _ in range(5)]
    assert (await client.post("/events", json=batch)).status_code == 204
    assert (await client.post("/events", json=batch[:2])).status_code == 204
    await eventually(lambda: _stored(pipeline, *(event["id"] for event in batch)))
    assert len(await stored_event_ids(pipeline)) == 5


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([{"id": "x"}], "0.id"),
        ([_plain_event(resource={})], "prefect.resource.id"),
        ({"not": "a list"}, "list"),
    ],
)
async def test_post_events_refuses_bad_events_with_the_reason(
    client: httpx.AsyncClient, body: Any, fragment: str
) -> None:
    response = await client.post("/events", json=body)
    assert response.status_code == 422
    assert fragment in response.text


async def test_events_out_of_order_end_in_the_newest_state(client: httpx.AsyncClient, pipeline: ServerContext) -> None:
    flow_run = await create_flow_run(client)
    task_run_id, flow_run_id = uuid.uuid4(), uuid.UUID(flow_run["id"])
    start = dt.datetime.now(dt.UTC)
    states = ["Pending", "Running", "Failed", "Running", "Completed"]
    events = [
        task_run_event(task_run_id, flow_run_id, name, start + dt.timedelta(seconds=i), run_count=1 + (i >= 3))
        for i, name in enumerate(states)
    ]
    # The newest first, then the rest newest to oldest, each batch its own message.
    for event in reversed(events):
        assert (await client.post("/events", json=[event])).status_code == 204
    await eventually(lambda: _stored(pipeline, *(event["id"] for event in events)))

    run = (await client.get(f"/task_runs/{task_run_id}")).json()
    assert run["state"]["id"] == events[-1]["id"]
    assert run["state_name"] == "Completed"
    assert run["run_count"] == 2
    history = (await client.get("/task_run_states/", params={"task_run_id": str(task_run_id)})).json()
    assert [state["name"] for state in history] == states


async def test_events_of_a_deleted_flow_run_are_kept_without_a_task_run(
    client: httpx.AsyncClient, pipeline: ServerContext
) -> None:
    gone, kept = uuid.uuid4(), uuid.UUID((await create_flow_run(client))["id"])
    now = dt.datetime.now(dt.UTC)
    orphan = task_run_event(uuid.uuid4(), gone, "Running", now)
    healthy_run = uuid.uuid4()
    healthy = task_run_event(healthy_run, kept, "Running", now)
    assert (await client.post("/events", json=[orphan, healthy])).status_code == 204
    await eventually(lambda: _stored(pipeline, orphan["id"], healthy["id"]))
    assert (await client.get(f"/task_runs/{healthy_run}")).status_code == 200
    async with pipeline.database.read() as connection:
        count = await connection.scalar(sa.select(sa.func.count()).select_from(t.task_run))
    assert count == 1


async def test_flow_run_state_changes_emit_events_with_related_resources(
    client: httpx.AsyncClient, pipeline: ServerContext
) -> None:
    flow_run = await create_flow_run(client, tags=["daily-etl"])
    response = await client.post(f"/flow_runs/{flow_run['id']}/set_state", json={"state": {"type": "RUNNING"}})
    assert response.status_code == 201
    running_state_id = response.json()["state"]["id"]

    async def flow_run_events() -> list[Any]:
        async with pipeline.database.read() as connection:
            rows = (
                await connection.execute(
                    sa.select(t.events).where(t.events.c.resource_id == f"prefect.flow-run.{flow_run['id']}")
                )
            ).mappings()
            found = sorted((dict(row) for row in rows), key=lambda row: row["occurred"])
        return found if len(found) == 2 else []

    pending, running = await eventually(flow_run_events)
    assert (pending["event"], running["event"]) == ("prefect.flow-run.Pending", "prefect.flow-run.Running")
    assert str(running["id"]) == running_state_id
    assert running["follows"] == pending["id"]
    assert running["payload"]["intended"] == {"from": "PENDING", "to": "RUNNING"}
    assert running["resource"]["prefect.resource.name"] == flow_run["name"]
    assert running["resource"]["prefect.state-type"] == "RUNNING"
    roles = {related["prefect.resource.role"]: related for related in running["related"]}
    assert roles["flow"]["prefect.resource.id"] == f"prefect.flow.{flow_run['flow_id']}"
    assert roles["flow"]["prefect.resource.name"] == "events-test-flow"
    assert roles["tag"]["prefect.resource.id"] == "prefect.tag.daily-etl"
    assert f"prefect.flow.{flow_run['flow_id']}" in running["related_resource_ids"]

    async with pipeline.database.read() as connection:
        created = await connection.scalar(
            sa.select(sa.func.count()).select_from(t.events).where(t.events.c.event == "prefect.flow.created")
        )
    assert created == 1


async def test_scheduled_runs_past_their_time_become_late(client: httpx.AsyncClient, pipeline: ServerContext) -> None:
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    overdue = await create_flow_run(client, state={"type": "SCHEDULED", "state_details": {"scheduled_time": long_ago}})
    future = await create_flow_run(client, state={"type": "SCHEDULED", "state_details": {"scheduled_time": soon}})

    async def late() -> bool:
        run = (await client.get(f"/flow_runs/{overdue['id']}")).json()
        return run["state"]["name"] == "Late"

    await eventually(late)
    run = (await client.get(f"/flow_runs/{overdue['id']}")).json()
    assert run["state_type"] == "SCHEDULED"
    assert dt.datetime.fromisoformat(run["state"]["state_details"]["scheduled_time"]) == dt.datetime.fromisoformat(
        long_ago
    )
    assert (await client.get(f"/flow_runs/{future['id']}")).json()["state_name"] == "Scheduled"

    async def late_event() -> bool:
        async with pipeline.database.read() as connection:
            return bool(
                await connection.scalar(
                    sa.select(sa.func.count()).select_from(t.events).where(t.events.c.event == "prefect.flow-run.Late")
                )
            )

    await eventually(late_event)
    history = (await client.get("/flow_run_states/", params={"flow_run_id": overdue["id"]})).json()
    assert [state["name"] for state in history] == ["Scheduled", "Late"]


def test_the_queued_form_of_an_event_round_trips() -> None:
    from baton.server.api.events_in import received_event
    from baton.server.schemas.events import Event

    data = _plain_event(related=[{"prefect.resource.id": "a", "prefect.resource.role": "b"}], occurred=1764028800)
    event = Event.model_validate(data)
    queued = received_event(dict(data), event, "2026-11-25T00:00:00+00:00")
    assert orjson.loads(orjson.dumps(queued))["received"] == "2026-11-25T00:00:00+00:00"
    assert queued["occurred"] == "2025-11-25T00:00:00+00:00"  # a number is a valid time; it is queued as ISO-8601
    assert Event.model_validate(queued) == event.model_copy(
        update={"received": dt.datetime(2026, 11, 25, tzinfo=dt.UTC)}
    )


_RECEIVED = "2026-11-25T00:00:00.500000+00:00"


def _rich_event(**overrides: Any) -> dict[str, Any]:
    event = _plain_event(
        related=[{"prefect.resource.id": "prefect.flow-run.1", "prefect.resource.role": "flow-run"}],
        payload={"validated_state": {"type": "RUNNING", "data": None}},
        follows=str(uuid.uuid4()),
    )
    event.update(overrides)
    return event


@pytest.mark.parametrize(
    "data",
    [
        _rich_event(),
        _rich_event(occurred="2026-11-25T12:30:01.123456Z"),
        _rich_event(occurred="2026-11-25T12:30:01Z"),
        _rich_event(occurred="2026-11-25T12:30:01.000000Z"),
        _rich_event(occurred="2026-11-25T12:30:01.5+00:00"),
        _rich_event(occurred="2026-11-25T12:30:01.123-05:30"),
        _rich_event(id=str(uuid.uuid4()).upper(), follows=str(uuid.uuid4()).upper()),
        _rich_event(follows=None),
        _plain_event(),
    ],
)
def test_a_plain_event_is_queued_as_the_model_would_queue_it(data: dict[str, Any]) -> None:
    from baton.server.api.events_in import plainly_valid_event, received_event
    from baton.server.schemas.events import Event

    by_model = received_event(orjson.loads(orjson.dumps(data)), Event.model_validate(data), _RECEIVED)
    assert plainly_valid_event(orjson.loads(orjson.dumps(data)), _RECEIVED) == by_model


@pytest.mark.parametrize(
    "data",
    [
        _rich_event(),
        _rich_event(occurred="2026-11-25T12:30:01.123456Z"),
        _rich_event(occurred="2026-11-25T12:30:01.123-05:30"),
        _rich_event(id=str(uuid.uuid4()).upper(), follows=str(uuid.uuid4()).upper()),
        _rich_event(follows=None, received=None),
        _plain_event(),
    ],
)
@pytest.mark.parametrize("indent", [None, 2])
def test_a_plain_event_frame_is_queued_as_its_text_and_decodes_as_the_model_would_queue_it(
    data: dict[str, Any], indent: int | None
) -> None:
    from baton.server.api.events_in import plainly_valid_event_text, received_event
    from baton.server.schemas.events import Event

    by_model = received_event(orjson.loads(orjson.dumps(data)), Event.model_validate(data), _RECEIVED)
    text = json.dumps(data, indent=indent) + "\n"
    queued = plainly_valid_event_text(text, orjson.loads(text), _RECEIVED)
    assert isinstance(queued, orjson.Fragment)
    # Queued in a batch (messages.record_events), then read by Python (json, orjson) and by PostgreSQL's jsonb.
    batch = orjson.dumps([queued, {"id": "next"}])
    assert json.loads(batch)[0] == orjson.loads(batch)[0] == by_model
    assert json.loads(batch)[1] == {"id": "next"}
    # The frame's own fields come first, unchanged; what differs from it follows, and the last key counts.
    assert batch.decode().startswith("[" + text.rstrip()[:-1] + ",")


@pytest.mark.parametrize(
    "data",
    [_plain_event(occurred=1764028800), _plain_event(received="2026-11-25T12:30:01Z"), _plain_event(payload=[]), []],
)
def test_a_frame_that_is_not_a_plain_event_has_no_queued_text(data: Any) -> None:
    from baton.server.api.events_in import plainly_valid_event_text

    text = json.dumps(data)
    assert plainly_valid_event_text(text, orjson.loads(text), _RECEIVED) is None


@pytest.mark.parametrize(
    "data",
    [
        _plain_event(occurred=1764028800),  # valid, but a number: the model reads it
        _plain_event(occurred="2026-11-25T12:30:01"),  # valid, but without a zone
        _plain_event(occurred="2026-13-25T12:30:01Z"),
        _plain_event(received="2026-11-25T12:30:01Z"),
        _plain_event(id=uuid.uuid4().hex),
        _plain_event(id="not-a-uuid"),
        _plain_event(name=""),
        _plain_event(name="x" * 1025),
        _plain_event(resource={"name": "no id"}),
        _plain_event(resource={"prefect.resource.id": "r", "count": 1}),
        _plain_event(related=[{"prefect.resource.id": "r"}]),
        _plain_event(related=[{"prefect.resource.id": f"r{i}", "prefect.resource.role": "x"} for i in range(101)]),
        _plain_event(payload=[]),
        {**_plain_event(), "follows": "self"},
        [],
    ],
)
def test_anything_but_a_plain_event_is_left_to_the_model(data: Any) -> None:
    from baton.server.api.events_in import plainly_valid_event

    if isinstance(data, dict) and data.get("follows") == "self":
        data["follows"] = data["id"]
    assert plainly_valid_event(data, _RECEIVED) is None


def _label_sets(role: bool) -> list[Any]:
    """Label sets at and around the schema's rules for a resource (or a related resource, with `role`)."""
    labels = {RESOURCE_ID: "test.resource.1", **({RESOURCE_ROLE: "role"} if role else {})}
    full = {**labels, **{f"label.{i}": "x" for i in range(MAX_LABELS_PER_RESOURCE - len(labels))}}
    return [
        labels,
        full,
        {**full, "one.too.many": "x"},
        {**labels, RESOURCE_ID: ""},
        {key: value for key, value in labels.items() if key != RESOURCE_ID},
        {**labels, RESOURCE_ROLE: ""},
        {**labels, "count": 1},
        {**labels, "nothing": None},
        {},
        [],
        "test.resource.1",
        None,
    ]


_SOME_ID = str(uuid.uuid4())
# Values around every rule of the `Event` schema, field by field; `_MISSING_FIELD` drops the field.
_MISSING_FIELD = object()
_FIELD_VALUES: dict[str, list[Any]] = {
    "id": [
        _SOME_ID,
        _SOME_ID.upper(),
        uuid.UUID(_SOME_ID).hex,
        f"{{{_SOME_ID}}}",
        f"urn:uuid:{_SOME_ID}",
        _SOME_ID[:-1] + "g",
        f" {_SOME_ID[1:]}",
        _SOME_ID[:8] + _SOME_ID[9] + "-" + _SOME_ID[10:],
        _SOME_ID[:-1] + "٠",
        "",
        1,
        None,
        _MISSING_FIELD,
    ],
    "occurred": [
        "2026-11-25T12:30:01Z",
        "2026-11-25T12:30:01+00:00",
        "2026-11-25T12:30:01.000000Z",
        "2026-11-25T12:30:01.5Z",
        "2026-11-25T12:30:01.123456+00:00",
        "2026-11-25T12:30:01.1234567Z",
        "2026-11-25T12:30:01.123-05:30",
        "2026-11-25T12:30:01-00:00",
        "2026-11-25T12:30:01+14:00",
        "2026-11-25T12:30:01+24:00",
        "2026-11-25T12:30:01",
        "2026-11-25 12:30:01Z",
        "2026-11-25t12:30:01z",
        "2026-02-30T12:30:01Z",
        "2026-11-25T24:00:00Z",
        "2026-11-25",
        "２０26-11-25T12:30:01Z",
        "2026-11-25T12:30:٠١Z",
        "1764028800",
        1764028800,
        1764028800.5,
        "",
        None,
        _MISSING_FIELD,
    ],
    "event": ["x", "x" * MAX_EVENT_NAME_LENGTH, "x" * (MAX_EVENT_NAME_LENGTH + 1), "", 1, ["x"], None, _MISSING_FIELD],
    "resource": [*_label_sets(role=False), _MISSING_FIELD],
    "related": [
        [],
        *([labels] for labels in _label_sets(role=True)),
        [{RESOURCE_ID: f"r{i}", RESOURCE_ROLE: "x"} for i in range(MAX_RELATED_RESOURCES)],
        [{RESOURCE_ID: f"r{i}", RESOURCE_ROLE: "x"} for i in range(MAX_RELATED_RESOURCES + 1)],
        {},
        "x",
        None,
        _MISSING_FIELD,
    ],
    "payload": [{}, {"a": [1, None, {"b": "c"}]}, [], "x", 1, None, _MISSING_FIELD],
    "follows": [str(uuid.uuid4()), str(uuid.uuid4()).upper(), uuid.uuid4().hex, _SOME_ID, "x", 1, "", None],
    "received": [None, "2026-11-25T12:30:01Z", 1, _MISSING_FIELD],
}


def _variants() -> list[Any]:
    """The Prefect client's task-run event and a plain event, each with one field changed to each of its values."""
    bases = [
        {**_rich_event(), "id": _SOME_ID},
        {**_plain_event(), "id": _SOME_ID},
    ]
    variants: list[Any] = [None, [], "x", 1]
    for base in bases:
        for field, values in _FIELD_VALUES.items():
            for value in values:
                variant = copy.deepcopy(base)
                if value is _MISSING_FIELD:
                    variant.pop(field, None)
                else:
                    variant[field] = copy.deepcopy(value)
                variants.append(variant)
    return variants


def test_the_fast_validator_accepts_only_what_the_model_accepts_and_queues_it_as_the_model_would() -> None:
    """Parity of the socket's hand-written validator (`plainly_valid_event`) with the `Event` schema, over values
    around every rule of the schema: whatever it accepts, the model accepts and queues the same; whatever the model
    refuses, it refuses. It is kept for speed: parsing, validating and queueing a Prefect task-run frame took 9.5 us
    by it and 23 us by the model (2026-12-07, 2 cores, least of 40 interleaved rounds of 2,000)."""
    from baton.server.api.events_in import plainly_valid_event, plainly_valid_event_text, received_event
    from baton.server.schemas.events import Event

    taken = 0
    for data in _variants():
        text = json.dumps(data)
        plain = plainly_valid_event(orjson.loads(text), _RECEIVED)
        plain_text = plainly_valid_event_text(text, orjson.loads(text), _RECEIVED)
        assert (plain is None) == (plain_text is None), text
        try:
            event = Event.model_validate(orjson.loads(text))
        except pydantic.ValidationError:
            assert plain is None, f"the fast validator accepts what the model refuses: {text[:300]}"
            continue
        if plain is None:
            continue  # valid, but not plain: the socket lets the model read it
        taken += 1
        by_model = received_event(orjson.loads(text), event, _RECEIVED)
        assert plain == by_model, text[:300]
        assert orjson.loads(orjson.dumps([plain_text]))[0] == by_model, text[:300]
    assert taken >= 30  # the fast path is exercised, not only the refusals


async def test_a_pong_confirms_that_the_events_sent_before_the_ping_are_queued(
    base_url: str, pipeline: ServerContext
) -> None:
    # The Prefect client forgets the events it sent before a ping once the pong arrives (it sends the rest again
    # after reconnecting): the pong must not come while they are still in the process's buffer.
    publisher = pipeline.publisher
    assert publisher is not None
    publisher.flush_interval = 5.0  # without the checkpoint, they would sit in the buffer this long
    sent_before = publisher.sent_events
    events = [_plain_event() for _ in range(5)]
    async with connect(events_in_url(base_url), subprotocols=["prefect"]) as socket:
        await socket.send(json.dumps({"type": "auth", "token": None}))
        assert json.loads(await socket.recv()) == {"type": "auth_success"}
        for event in events:
            await socket.send(json.dumps(event))
        await (await socket.ping())
        assert publisher.sent_events - sent_before == 5
        assert publisher.pending == 0
    await eventually(lambda: _stored(pipeline, *(event["id"] for event in events)))

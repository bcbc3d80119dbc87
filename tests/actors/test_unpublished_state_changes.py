"""Flow-run states whose `emit_flow_run_events` message was lost (an API process killed between its commit and the
publisher's send) get their events, and so their notifications, from the periodic sweep.

The server here has no publisher (the server tests' plain context, not the pipeline of tests/actors/conftest.py): its
state changes commit and reach no queue, as a killed process's last ones."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from baton.actors import events
from baton.actors.runtime import ActorRuntime
from baton.queue import messages
from baton.queue.broker import make_broker
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.configuration import read_configuration, write_configuration
from baton.settings import Settings
from tests.server.conftest import server_context, settings  # noqa: F401 (fixtures: no publisher)


@pytest.fixture
async def runtime(
    settings: Settings,  # noqa: F811 (the fixture imported above)
    database: Database,
) -> AsyncIterator[ActorRuntime]:
    runtime = ActorRuntime(settings, make_broker(settings), database)
    yield runtime
    await runtime.close()


async def _run_through(client: httpx.AsyncClient, flow_id: str, *states: str) -> str:
    """A new run, Scheduled, then through `states`."""
    body = {"flow_id": flow_id, "state": {"type": "SCHEDULED"}}
    run = (await client.post("/flow_runs/", json=body)).json()
    for state in states:
        response = await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": state}})
        assert response.json()["status"] == "ACCEPT", response.text
    return str(run["id"])


async def _age_states(database: Database, seconds: float) -> None:
    """Make every state look written `seconds` earlier (older than the sweep's grace)."""
    state = t.flow_run_state.c
    async with database.write() as connection:
        for state_id, updated in (await connection.execute(sa.select(state.id, state.updated))).all():
            later = updated - dt.timedelta(seconds=seconds)
            await connection.execute(sa.update(t.flow_run_state).where(state.id == state_id).values(updated=later))


async def _state_events(database: Database) -> list[dict[str, Any]]:
    query = sa.select(t.events.c.id, t.events.c.event, t.events.c.resource_id, t.events.c.payload).where(
        t.events.c.event.like("prefect.flow-run.%")
    )
    async with database.read() as connection:
        return [dict(row) for row in (await connection.execute(query)).mappings()]


async def test_states_without_events_get_them_once_and_auto_scheduled_runs_first_states_none(
    client: httpx.AsyncClient, database: Database, runtime: ActorRuntime
) -> None:
    flow = (await client.post("/flows/", json={"name": "lost-messages"})).json()
    failed = await _run_through(client, flow["id"], "PENDING", "RUNNING", "FAILED")
    auto = await _run_through(client, flow["id"])
    async with database.write() as connection:  # a run the scheduler made: its first state has no event by design
        await connection.execute(
            sa.update(t.flow_run).where(t.flow_run.c.id == uuid.UUID(auto)).values(auto_scheduled=True)
        )
    await _age_states(database, 120)
    recent = await _run_through(client, flow["id"])
    await _age_states(database, 120)
    response = await client.post(f"/flow_runs/{recent}/set_state", json={"state": {"type": "PENDING"}})
    assert response.json()["status"] == "ACCEPT"  # within the grace: left to its message

    await events.resume_unpublished_state_changes(runtime)

    found = await _state_events(database)
    assert sorted(event["event"] for event in found if event["resource_id"] == f"prefect.flow-run.{failed}") == [
        "prefect.flow-run.Failed",
        "prefect.flow-run.Pending",
        "prefect.flow-run.Running",
        "prefect.flow-run.Scheduled",
    ]
    failed_event = next(event for event in found if event["event"] == "prefect.flow-run.Failed")
    assert failed_event["payload"]["intended"] == {"from": "RUNNING", "to": "FAILED"}
    assert not [event for event in found if event["resource_id"] == f"prefect.flow-run.{auto}"]
    recent_events = [event["event"] for event in found if event["resource_id"] == f"prefect.flow-run.{recent}"]
    assert recent_events == ["prefect.flow-run.Scheduled"]  # its Pending is younger than the grace
    assert len(found) == 5

    # A second pass right away looks only past its mark: nothing new.
    await events.resume_unpublished_state_changes(runtime)
    assert len(await _state_events(database)) == 5
    # Two minutes on (the states and the mark as much older): the recent run's Pending is past the grace now.
    await _age_states(database, 120)
    async with database.write() as connection:
        mark = await read_configuration(connection, events.UNPUBLISHED_MARK_KEY)
        assert mark is not None
        earlier = dt.datetime.fromisoformat(mark["until"]) - dt.timedelta(seconds=120)
        await write_configuration(connection, events.UNPUBLISHED_MARK_KEY, {"until": earlier.isoformat()})
    await events.resume_unpublished_state_changes(runtime)
    found = await _state_events(database)
    assert len(found) == 6 == len({event["id"] for event in found})
    assert sorted(event["event"] for event in found if event["resource_id"] == f"prefect.flow-run.{recent}") == [
        "prefect.flow-run.Pending",
        "prefect.flow-run.Scheduled",
    ]


async def test_the_sweep_waits_while_the_pipeline_queues_are_behind(
    client: httpx.AsyncClient, database: Database, runtime: ActorRuntime
) -> None:
    flow = (await client.post("/flows/", json={"name": "lost-messages"})).json()
    await _run_through(client, flow["id"], "PENDING")
    await _age_states(database, 120)
    runtime.broker.enqueue(messages.emit_flow_run_events([]))  # a state-change message still waiting
    await events.resume_unpublished_state_changes(runtime)
    assert await _state_events(database) == []
    runtime.broker.queues[messages.ACTOR_QUEUES[messages.EMIT_FLOW_RUN_EVENTS]].get_nowait()
    runtime.broker.queues[messages.ACTOR_QUEUES[messages.EMIT_FLOW_RUN_EVENTS]].task_done()
    await events.resume_unpublished_state_changes(runtime)
    assert sorted(event["event"] for event in await _state_events(database)) == [
        "prefect.flow-run.Pending",
        "prefect.flow-run.Scheduled",
    ]

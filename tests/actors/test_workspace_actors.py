"""The actors in workspaces: what a request in a workspace starts (events, state changes, schedules), and the
periodic jobs, run against that workspace's store only; a default-workspace twin of every object stays untouched."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dramatiq
import httpx
import pytest
import sqlalchemy as sa
from dramatiq.common import dq_name

from baton.actors.runtime import ActorRuntime
from baton.actors.setup import ACTOR_FUNCTIONS, periodic_jobs
from baton.queue import messages
from baton.queue.broker import make_broker
from baton.server.automations.loaded import automation_cache
from baton.server.context import ServerContext
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.settings import Settings
from tests.actors.test_automation_triggers import firings, make_event
from tests.actors.test_notifications import Receiver, _serve_receiver, create_policy, fail, slack_block
from tests.pipeline import create_flow_run, eventually, pipeline_settings
from tests.server.api.test_workspaces import new_workspace, workspace_api


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return pipeline_settings(database_url, tmp_path).model_copy(update={"notifications_retry_backoff_seconds": 0.05})


@dataclass
class Workspace:
    id: uuid.UUID
    #: An HTTP client whose relative URLs are under the workspace's API URL.
    client: httpx.AsyncClient
    database: Database


@pytest.fixture
async def workspace(client: httpx.AsyncClient, base_url: str, pipeline: ServerContext) -> AsyncIterator[Workspace]:
    workspace_id = await new_workspace(client, "team")
    async with httpx.AsyncClient(base_url=f"{base_url}/api{workspace_api(workspace_id)}", timeout=30) as http:
        yield Workspace(uuid.UUID(workspace_id), http, pipeline.database.for_workspace(uuid.UUID(workspace_id)))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async for found in _serve_receiver():
        yield found


async def test_a_workspaces_state_change_notifies_through_its_own_policies_only(
    client: httpx.AsyncClient, workspace: Workspace, receiver: Receiver
) -> None:
    await create_policy(client, state_names=["Failed"], block_document_id=await slack_block(client, receiver.url))
    target = await slack_block(workspace.client, receiver.url)
    policy = await create_policy(workspace.client, state_names=["Failed"], block_document_id=target)
    run = await create_flow_run(workspace.client, name="run-in-the-workspace")
    await fail(workspace.client, run)

    async def sent() -> list[dict[str, Any]]:
        found = (await workspace.client.post("/notification_deliveries/filter", json={})).json()
        return [each for each in found if each["status"] == "SENT"]

    [delivery] = await eventually(sent, within=15)
    assert delivery["policy_id"] == policy["id"]
    assert len(receiver.bodies) == 1 and "run-in-the-workspace" in str(receiver.bodies[0])
    # The default workspace's policy matches every failed run, yet it saw none: the run is not its.
    assert (await client.post("/notification_deliveries/filter", json={})).json() == []


async def test_the_late_runs_job_marks_a_workspaces_runs_late(client: httpx.AsyncClient, workspace: Workspace) -> None:
    past = (utcnow() - dt.timedelta(minutes=5)).isoformat()
    scheduled = {"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": past}}}
    run = await create_flow_run(workspace.client, **scheduled)

    async def state_name() -> str | None:
        name = (await workspace.client.get(f"/flow_runs/{run['id']}")).json()["state"]["name"]
        return name if name == "Late" else None

    assert await eventually(state_name, within=15) == "Late"

    # Its "Late" event is recorded in the workspace, not in the default workspace.
    async def late_event() -> bool:
        events = (await workspace.client.post("/events/filter", json={})).json()["events"]
        return "prefect.flow-run.Late" in [event["event"] for event in events]

    assert await eventually(late_event, within=15)
    default_events = (await client.post("/events/filter", json={})).json()["events"]
    assert "prefect.flow-run.Late" not in [event["event"] for event in default_events]


async def test_a_workspaces_deployment_schedule_makes_runs_in_that_workspace(
    client: httpx.AsyncClient, workspace: Workspace
) -> None:
    flow = (await workspace.client.post("/flows/", json={"name": "etl"})).json()
    created = await workspace.client.post(
        "/deployments/",
        json={"name": "hourly", "flow_id": flow["id"], "schedules": [{"schedule": {"interval": 3600}}]},
    )
    assert created.status_code == 201, created.text

    async def scheduled_runs() -> int:
        body = {"deployments": {"id": {"any_": [created.json()["id"]]}}}
        return int((await workspace.client.post("/flow_runs/count", json=body)).json())

    assert await eventually(scheduled_runs, within=15) > 0
    assert (await client.post("/flow_runs/count", json={})).json() == 0


async def test_a_workspaces_events_fire_its_automations_only(
    client: httpx.AsyncClient, workspace: Workspace, pipeline: ServerContext
) -> None:
    trigger = {"type": "event", "posture": "Reactive", "expect": ["thing.happened"], "threshold": 1, "within": 0}
    body = {"name": "on-thing", "trigger": trigger, "actions": [{"type": "do-nothing"}]}
    in_default = (await client.post("/automations/", json=body)).json()
    in_workspace = (await workspace.client.post("/automations/", json=body)).json()
    automation_cache(pipeline.database).forget()
    automation_cache(workspace.database).forget()
    assert (await workspace.client.post("/events", json=[make_event("thing.happened")])).status_code == 204

    async def fired() -> list[dict[str, Any]]:
        return await firings(workspace.database, uuid.UUID(in_workspace["id"]))

    assert len(await eventually(fired, within=15)) == 1
    assert await firings(pipeline.database, uuid.UUID(in_default["id"])) == []


async def test_a_periodic_job_from_the_beat_is_sent_on_to_every_workspace(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    from baton.server.workspaces import create_workspace, delete_workspace

    broker = make_broker(settings)
    runtime = ActorRuntime(settings, broker, database)
    first = await create_workspace(database, "first", "")
    second = await create_workspace(database, "second", "")
    try:
        job = {each.name: each for each in periodic_jobs(settings)}[messages.MARK_ZOMBIE_RUNS]
        beat_message = job.make_message()
        # Spread over half the job's period.
        assert beat_message.kwargs == {messages.EVERY_WORKSPACE_KWARG: settings.services_zombie_runs_loop_seconds / 2}
        await runtime.fan_out(messages.message(messages.MARK_ZOMBIE_RUNS), spread_seconds=4.0)
        now, sent = time.time() * 1000, []
        for name in (messages.PERIODIC_QUEUE, dq_name(messages.PERIODIC_QUEUE)):
            queue = broker.queues[name]
            sent += [dramatiq.Message.decode(queue.get_nowait()) for _ in range(queue.qsize())]
        assert sorted(messages.workspace_of(each) for each in sent) == sorted([first["id"], second["id"]])
        assert {each.actor_name for each in sent} == {messages.MARK_ZOMBIE_RUNS}
        # The first workspace's at once, the second's 2 s later (half of 4 s for two workspaces).
        delays = sorted(each.options.get("eta", now) - now for each in sent)
        assert delays[0] <= 100 and 1500 <= delays[1] <= 2100, delays
    finally:
        await delete_workspace(database, first["id"])
        await delete_workspace(database, second["id"])
        await runtime.close()


async def test_a_message_for_a_deleted_workspace_is_dropped(settings: Settings, database: Database) -> None:
    from baton.server.workspaces import create_workspace, delete_workspace

    runtime = ActorRuntime(settings, make_broker(settings), database)
    runtime.loop = asyncio.get_running_loop()
    kept = await create_workspace(database, "kept", "")
    gone = await create_workspace(database, "gone", "")
    await delete_workspace(database, gone["id"])
    calls: list[uuid.UUID | None] = []

    async def actor(given: ActorRuntime) -> None:
        async with (await given.database()).read() as connection:
            await connection.execute(sa.select(sa.func.count()).select_from(t.flow_run))
        calls.append(given.workspace_id)

    try:
        await asyncio.to_thread(runtime.run, actor, (), str(kept["id"]))
        await asyncio.to_thread(runtime.run, actor, (), str(gone["id"]))
        await asyncio.to_thread(runtime.run, actor, ())
        assert calls == [kept["id"], None]
    finally:
        await delete_workspace(database, kept["id"])
        await runtime.close()


async def test_every_periodic_job_runs_in_a_workspaces_store(settings: Settings, database: Database) -> None:
    """Each periodic job, run once for a workspace, works on the tables its store has (the global ones, such as the
    audit log's, are the main database's only)."""
    from baton.server.workspaces import create_workspace, delete_workspace

    runtime = ActorRuntime(settings, make_broker(settings), database)
    workspace = await create_workspace(database, "periodic", "")
    try:
        for job in periodic_jobs(settings):
            await ACTOR_FUNCTIONS[job.name](runtime.in_workspace(workspace["id"]), *job.make_message().args)
    finally:
        await delete_workspace(database, workspace["id"])
        await runtime.close()

"""Periodic jobs skip the workspaces where their last pass found nothing to do (`baton.actors.quiet`): until a write
in that workspace, or until the time the pass said its work comes due; and a user sees the same outcome as without
skipping (a run becomes Late within the same bound)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import sqlalchemy as sa
from dramatiq.common import dq_name

from baton.actors.quiet import NothingDue, QuietWorkspaces
from baton.actors.runtime import ActorRuntime
from baton.actors.setup import ACTOR_FUNCTIONS, EmbeddedServices, periodic_jobs
from baton.queue import messages
from baton.queue.broker import make_broker
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.runs.flow_runs import create_flow_run
from baton.server.models.runs.states import set_flow_run_state
from baton.server.schemas.actions import FlowRunCreate
from baton.server.schemas.states import StateCreate, StateDetails
from baton.server.workspaces import create_workspace, delete_workspace
from baton.settings import Settings
from baton.states import StateType
from tests.pipeline import eventually, pipeline_settings

# The job whose pass in an empty store has work all the same: retention deletes what ages.
ALWAYS_VISITED = {messages.PRUNE_EXPIRED_DATA}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return pipeline_settings(database_url, tmp_path)


@pytest.fixture
async def runtime(settings: Settings, database: Database) -> AsyncIterator[ActorRuntime]:
    runtime = ActorRuntime(settings, make_broker(settings), database)
    runtime.quiet = QuietWorkspaces(database.change_marks)
    runtime.loop = asyncio.get_running_loop()
    yield runtime
    await runtime.close()


@pytest.fixture
async def workspaces(database: Database) -> AsyncIterator[list[uuid.UUID]]:
    made = [(await create_workspace(database, name, ""))["id"] for name in ("first", "second")]
    yield made
    for workspace_id in made:
        await delete_workspace(database, workspace_id)


def sent_messages(broker: dramatiq.Broker) -> list[dramatiq.Message[Any]]:
    """Take every message (delayed ones included) off the periodic queue."""
    sent = []
    for name in (messages.PERIODIC_QUEUE, dq_name(messages.PERIODIC_QUEUE)):
        queue = broker.queues[name]
        sent += [dramatiq.Message.decode(queue.get_nowait()) for _ in range(queue.qsize())]
    return sent


async def visited(runtime: ActorRuntime) -> dict[uuid.UUID | None, set[str]]:
    """Per workspace, the periodic jobs the beat's fan-out sends a message to, now."""
    found: dict[uuid.UUID | None, set[str]] = {}
    for job in periodic_jobs(runtime.settings):
        await runtime.fan_out(messages.message(job.name))
    for sent in sent_messages(runtime.broker):
        found.setdefault(messages.workspace_of(sent), set()).add(sent.actor_name)
    return found


async def run_every_job(runtime: ActorRuntime, workspace_id: uuid.UUID) -> None:
    """One pass of every periodic job in the workspace, as a message from the beat runs it; those always visited
    first (a retention pass ends write transactions, even when it finds nothing to delete)."""
    for job in sorted(periodic_jobs(runtime.settings), key=lambda job: job.name not in ALWAYS_VISITED):
        function = ACTOR_FUNCTIONS[job.name]
        await asyncio.to_thread(runtime.run, function, job.make_message().args, str(workspace_id))


async def add_scheduled_run(database: Database, scheduled: dt.datetime) -> uuid.UUID:
    """A flow run in the Scheduled state, to start at `scheduled`, written as a request writes it."""
    async with database.write() as connection:
        flow_id = uuid.uuid4()
        await connection.execute(sa.insert(t.flow).values(id=flow_id, name=f"flow-{flow_id.hex[:8]}"))
        run, _ = await create_flow_run(connection, FlowRunCreate(flow_id=flow_id))
        state = StateCreate(type=StateType.SCHEDULED, state_details=StateDetails(scheduled_time=scheduled))
        await set_flow_run_state(connection, run["id"], state, force=True)
    return uuid.UUID(str(run["id"]))


async def state_name(database: Database, run_id: uuid.UUID) -> str:
    async with database.read() as connection:
        query = sa.select(t.flow_run.c.state_name).where(t.flow_run.c.id == run_id)
        return str((await connection.execute(query)).scalar_one())


def test_every_periodic_job_is_keyed_by_its_actor_name(tmp_path: Path) -> None:
    """The fan-out looks a job up by its message's actor name, a pass records it by its function's name."""
    for job in periodic_jobs(Settings(home=tmp_path)):
        assert ACTOR_FUNCTIONS[job.name].__name__ == job.name


async def test_a_job_with_nothing_to_do_skips_the_workspace_until_a_write_there(
    runtime: ActorRuntime, database: Database, workspaces: list[uuid.UUID]
) -> None:
    first, second = workspaces
    every_job = {job.name for job in periodic_jobs(runtime.settings)}
    assert await visited(runtime) == {first: every_job, second: every_job}

    for workspace_id in workspaces:
        await run_every_job(runtime, workspace_id)
    assert await visited(runtime) == {first: ALWAYS_VISITED, second: ALWAYS_VISITED}
    assert await visited(runtime) == {first: ALWAYS_VISITED, second: ALWAYS_VISITED}

    # A write in the first workspace wakes its jobs, not the second's.
    async with database.for_workspace(first).write() as connection:
        await connection.execute(sa.insert(t.flow).values(name="new"))
    assert await visited(runtime) == {first: every_job, second: ALWAYS_VISITED}


async def test_a_write_during_a_pass_keeps_the_job_visiting(
    runtime: ActorRuntime, database: Database, workspaces: list[uuid.UUID]
) -> None:
    """The change mark is read before the pass begins: a write that commits while it runs (which its queries may
    not have seen) keeps the workspace visited."""
    first = workspaces[0]

    async def mark_late_runs(given: ActorRuntime) -> NothingDue:
        async with (await given.database()).read():
            async with database.for_workspace(first).write() as connection:  # another request's write, meanwhile
                await connection.execute(sa.insert(t.flow).values(name="meanwhile"))
        return NothingDue()

    await asyncio.to_thread(runtime.run, mark_late_runs, (), str(first))
    assert runtime.quiet is not None and not runtime.quiet.is_quiet(messages.MARK_LATE_RUNS, first)
    # Without the write, the same outcome makes it quiet.
    await asyncio.to_thread(runtime.run, _nothing_due, (), str(first))
    assert runtime.quiet.is_quiet(_nothing_due.__name__, first)


async def _nothing_due(given: ActorRuntime) -> NothingDue:
    return NothingDue()


async def test_late_runs_come_due_at_the_earliest_scheduled_start_plus_the_threshold(
    runtime: ActorRuntime, database: Database, workspaces: list[uuid.UUID]
) -> None:
    first = workspaces[0]
    store = database.for_workspace(first)
    start = utcnow() + dt.timedelta(hours=1)
    run_id = await add_scheduled_run(store, start)
    late_after = dt.timedelta(seconds=runtime.settings.services_late_runs_after_seconds)
    function = ACTOR_FUNCTIONS[messages.MARK_LATE_RUNS]
    await asyncio.to_thread(runtime.run, function, (), str(first))

    quiet = runtime.quiet
    assert quiet is not None
    assert quiet.is_quiet(messages.MARK_LATE_RUNS, first, start + late_after - dt.timedelta(milliseconds=1))
    assert not quiet.is_quiet(messages.MARK_LATE_RUNS, first, start + late_after)
    assert await state_name(store, run_id) == "Scheduled"


async def test_concurrency_leases_come_due_at_the_first_expiry(
    runtime: ActorRuntime, database: Database, workspaces: list[uuid.UUID]
) -> None:
    first = workspaces[0]
    store = database.for_workspace(first)
    expires = utcnow() + dt.timedelta(minutes=10)
    async with store.write() as connection:
        await connection.execute(sa.insert(t.concurrency_lease).values(expires_at=expires, slots=1))
    function = ACTOR_FUNCTIONS[messages.EXPIRE_CONCURRENCY_LEASES]
    await asyncio.to_thread(runtime.run, function, (), str(first))

    quiet = runtime.quiet
    assert quiet is not None
    assert quiet.is_quiet(messages.EXPIRE_CONCURRENCY_LEASES, first, expires - dt.timedelta(milliseconds=1))
    assert not quiet.is_quiet(messages.EXPIRE_CONCURRENCY_LEASES, first, expires)


async def test_a_quiet_job_visits_again_after_the_recheck_period(
    runtime: ActorRuntime, workspaces: list[uuid.UUID]
) -> None:
    """For writes the marks cannot see (another process writing to the database)."""
    first = workspaces[0]
    runtime.quiet = QuietWorkspaces(runtime.quiet.marks, recheck_seconds=0.2)  # type: ignore[union-attr]
    await asyncio.to_thread(runtime.run, _nothing_due, (), str(first))
    assert runtime.quiet.is_quiet(_nothing_due.__name__, first)
    await asyncio.sleep(0.25)
    assert not runtime.quiet.is_quiet(_nothing_due.__name__, first)


async def test_without_change_marks_every_workspace_is_visited_every_period(
    settings: Settings, database: Database, workspaces: list[uuid.UUID]
) -> None:
    """A services process (Redis mode) does not see the API's writes: it never skips."""
    runtime = ActorRuntime(settings, make_broker(settings), database)
    runtime.loop = asyncio.get_running_loop()
    try:
        for workspace_id in workspaces:
            await run_every_job(runtime, workspace_id)
        every_job = {job.name for job in periodic_jobs(settings)}
        assert await visited(runtime) == {workspace_id: every_job for workspace_id in workspaces}
    finally:
        await runtime.close()


async def test_the_embedded_server_marks_a_quiet_workspaces_runs_late_in_time(
    settings: Settings, database: Database
) -> None:
    """End to end, with the embedded services' beat: once the late-runs job is quiet in a workspace, a run scheduled
    in the past is marked Late at the next passes all the same, and a run scheduled a little ahead is marked Late
    once its start plus the threshold passed, not before, though nothing was written in between."""
    embedded = EmbeddedServices(settings, database)
    embedded.start()
    workspace_id = (await create_workspace(database, "quiet", ""))["id"]
    store = database.for_workspace(workspace_id)
    quiet = embedded.runtime.quiet
    assert quiet is not None
    try:

        async def late_runs_quiet() -> bool:
            return quiet.is_quiet(messages.MARK_LATE_RUNS, workspace_id)

        assert await eventually(late_runs_quiet, within=10)
        past = await add_scheduled_run(store, utcnow() - dt.timedelta(minutes=5))

        async def is_late(run_id: uuid.UUID) -> bool:
            return await state_name(store, run_id) == "Late"

        assert await eventually(lambda: is_late(past), within=5)

        start = utcnow() + dt.timedelta(seconds=1)
        ahead = await add_scheduled_run(store, start)
        assert await eventually(late_runs_quiet, within=5)
        assert await state_name(store, ahead) == "Scheduled"
        assert await eventually(lambda: is_late(ahead), within=8)
        late_after = dt.timedelta(seconds=settings.services_late_runs_after_seconds)
        assert utcnow() >= start + late_after
    finally:
        await embedded.stop(5.0)
        await delete_workspace(database, workspace_id)

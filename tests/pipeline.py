"""The whole events pipeline in one process, for tests: a served context whose publisher feeds the embedded Dramatiq
worker (in-memory broker), whose actors write to the test's database; and helpers for the tests that use it.

A module (or conftest) that wants the pipeline imports its fixtures: `from tests.pipeline import pipeline,
server_context, settings`; tests/actors/conftest.py does, and so do the events websocket's handler tests in
tests/server/api/ (a conftest there would put every API test on the pipeline).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from baton.actors.setup import EmbeddedServices
from baton.queue.publisher import Publisher
from baton.server.blocks import register_system_blocks
from baton.server.context import ServerContext
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.settings import Settings


def pipeline_settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for a pipeline on `database_url`, with the late-runs sweep quick enough for a test."""
    return Settings(
        home=tmp_path,
        api_database_connection_url=database_url,
        services_late_runs_loop_seconds=0.2,
        services_late_runs_after_seconds=1.0,
    )


@asynccontextmanager
async def running_pipeline(settings: Settings, database: Database) -> AsyncIterator[ServerContext]:
    """A server context with a publisher and the embedded actors, running until the block ends."""
    await register_system_blocks(database)  # the notification channels are block types
    embedded = EmbeddedServices(settings, database)
    embedded.start()
    publisher = Publisher.from_settings(embedded.broker, settings)
    context = ServerContext(settings=settings, database=database, publisher=publisher)
    yield context
    await context.close()
    await publisher.close()
    await embedded.stop(5.0)


def events_in_url(base_url: str) -> str:
    """The events websocket of the server at `base_url`."""
    return base_url.replace("http://", "ws://") + "/api/events/in"


async def stored_event_ids(pipeline: ServerContext) -> set[str]:
    """The ids of the events stored in the pipeline's database."""
    async with pipeline.database.read() as connection:
        return {str(value) for value in (await connection.execute(sa.select(t.events.c.id))).scalars()}


async def eventually(check: Callable[[], Any], within: float = 10.0) -> Any:
    """Poll `check` (a function, or a coroutine function) until it returns something truthy; fail with its last value
    after `within` seconds."""

    async def current() -> Any:
        value = check()
        return await value if inspect.isawaitable(value) else value

    deadline = time.monotonic() + within
    value = await current()
    while not value and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        value = await current()
    assert value, f"condition not met within {within} s (last value {value!r})"
    return value


def task_run_event(
    task_run_id: uuid.UUID,
    flow_run_id: uuid.UUID,
    state: str,
    occurred: dt.datetime,
    *,
    run_count: int = 1,
    tags: tuple[str, ...] = (),
    event_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A task-run state event in the shape the Prefect 3.9 client emits (task_engine -> EventsWorker)."""
    state_type = {"Pending": "PENDING", "Running": "RUNNING", "Completed": "COMPLETED", "Failed": "FAILED"}.get(
        state, "SCHEDULED" if state in ("AwaitingRetry", "Retrying") else state.upper()
    )
    if state == "Retrying":
        state_type = "RUNNING"
    return {
        "id": str(event_id or uuid.uuid4()),
        "occurred": occurred.isoformat(),
        "event": f"prefect.task-run.{state}",
        "resource": {
            "prefect.resource.id": f"prefect.task-run.{task_run_id}",
            "prefect.resource.name": "add-1",
            "prefect.run-count": str(run_count),
            "prefect.state-message": "",
            "prefect.state-name": state,
            "prefect.state-timestamp": occurred.isoformat(),
            "prefect.state-type": state_type,
            "prefect.orchestration": "client",
        },
        "related": [
            *({"prefect.resource.id": f"prefect.tag.{tag}", "prefect.resource.role": "tag"} for tag in tags),
            {"prefect.resource.id": f"prefect.flow-run.{flow_run_id}", "prefect.resource.role": "flow-run"},
        ],
        "payload": {
            "intended": {"from": None, "to": state_type},
            "initial_state": None,
            "validated_state": {"type": state_type, "name": state, "message": "", "state_details": {}, "data": None},
            "task_run": {
                "name": "add-1",
                "task_key": "add-abc123",
                "dynamic_key": str(task_run_id)[:8],
                "run_count": run_count,
                "flow_run_run_count": 1,
                "empirical_policy": {"retries": 0, "retry_delay": 0},
                "tags": list(tags),
                "labels": {},
                "task_inputs": {"x": []},
                "expected_start_time": occurred.isoformat(),
                "start_time": occurred.isoformat() if state != "Pending" else None,
                "total_run_time": 0.0,
            },
        },
    }


async def create_flow_run(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    flow = (await client.post("/flows/", json={"name": "events-test-flow"})).json()
    response = await client.post("/flow_runs/", json={"flow_id": flow["id"], **fields})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return pipeline_settings(database_url, tmp_path)


@pytest.fixture
async def server_context(settings: Settings, database: Database) -> AsyncIterator[ServerContext]:
    """The served context, with a publisher and the embedded actors (tests call it `pipeline`)."""
    async with running_pipeline(settings, database) as context:
        yield context


@pytest.fixture
def pipeline(server_context: ServerContext) -> ServerContext:
    return server_context

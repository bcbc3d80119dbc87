"""A bulk state change is queued to the actors as `set_state`'s is: each accepted change becomes the run's state
event, recorded by the events actor."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from baton.server.context import ServerContext
from baton.server.database import tables as t
from tests.pipeline import create_flow_run, eventually


async def test_each_accepted_change_becomes_a_recorded_state_event(
    client: httpx.AsyncClient, pipeline: ServerContext
) -> None:
    runs = [await create_flow_run(client, tags=["bulk-events"]) for _ in range(2)]
    body = {"flow_runs": {"tags": {"all_": ["bulk-events"]}}, "state": {"type": "CANCELLED"}}
    response = await client.post("/flow_runs/bulk_set_state", json=body)
    assert {result["status"] for result in response.json()["results"]} == {"ACCEPT"}
    wanted = {f"prefect.flow-run.{run['id']}" for run in runs}

    async def recorded() -> set[str]:
        query = sa.select(t.events.c.resource_id).where(t.events.c.event == "prefect.flow-run.Cancelled")
        async with pipeline.database.read() as connection:
            found = set((await connection.execute(query)).scalars())
        return found if found >= wanted else set()

    assert await eventually(recorded) == wanted

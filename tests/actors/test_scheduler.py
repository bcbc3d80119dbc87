"""The scheduler actor: a deployment created (or its schedule changed) over the API gets its runs within seconds,
through the message the API sends after committing, not at the next periodic pass."""

from __future__ import annotations

import httpx

from baton.actors.setup import periodic_jobs
from baton.queue import messages
from baton.server.context import ServerContext
from tests.pipeline import eventually


async def _auto_runs(client: httpx.AsyncClient, deployment_id: str) -> int:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}
    return (await client.post("/flow_runs/count", json=body)).json()


async def test_a_new_deployment_is_scheduled_within_seconds(client: httpx.AsyncClient, pipeline: ServerContext) -> None:
    assert pipeline.settings.services_scheduler_loop_seconds == 60  # the periodic pass is not what does it
    flow = (await client.post("/flows/", json={"name": "scheduled-flow"})).json()
    body = {"flow_id": flow["id"], "name": "every-minute", "schedules": [{"schedule": {"interval": 60}}]}
    deployment = (await client.post("/deployments/", json=body)).json()
    assert await eventually(lambda: _auto_runs(client, deployment["id"]), within=15.0) >= 60

    hourly = {"schedule": {"interval": 3600}}
    schedule_id = deployment["schedules"][0]["id"]
    await client.patch(f"/deployments/{deployment['id']}/schedules/{schedule_id}", json=hourly)
    # The minute runs go; the hourly schedule keeps three runs (at least an hour ahead).
    assert await eventually(lambda: _is(client, deployment["id"], 3), within=15.0)


async def _is(client: httpx.AsyncClient, deployment_id: str, expected: int) -> bool:
    return await _auto_runs(client, deployment_id) == expected


def test_the_beat_schedules_deployments_periodically(pipeline: ServerContext) -> None:
    jobs = {job.name: job for job in periodic_jobs(pipeline.settings)}
    job = jobs[messages.SCHEDULE_DEPLOYMENTS]
    assert job.interval == pipeline.settings.services_scheduler_loop_seconds
    assert job.make_message().args == (None,)

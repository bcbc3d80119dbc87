"""The official Prefect 3 client manages deployments, their schedules and runs against Baton (in a subprocess, to
keep its global state out of pytest): every call parses Baton's answers into the client's own models."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.server.api.prefect_client_script import run_prefect_client_script

# Importing prefect takes about 2 s; anything near this limit is a hang.
CLIENT_TIMEOUT_SECONDS = 90
CLIENT_SCRIPT = """
import asyncio
import json
from datetime import timedelta

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule
from prefect.exceptions import PrefectHTTPStatusError
from prefect.utilities.callables import parameter_schema


@flow
def etl(n: int = 1, name: str = "x") -> int:
    return n


async def main():
    async with get_client() as client:
        flow_id = await client.create_flow(etl)
        deployment_id = await client.create_deployment(
            flow_id=flow_id,
            name="nightly",
            parameters={"n": 1},
            tags=["t"],
            schedules=[DeploymentScheduleCreate(schedule=IntervalSchedule(interval=timedelta(hours=1)), active=True)],
            parameter_openapi_schema=parameter_schema(etl).model_dump_for_openapi(),
            enforce_parameter_schema=True,
            concurrency_limit=2,
        )
        deployment = await client.read_deployment(deployment_id)
        by_name = await client.read_deployment_by_name("etl/nightly")
        run = await client.create_flow_run_from_deployment(deployment_id, parameters={"name": "y"})
        try:
            await client.create_flow_run_from_deployment(deployment_id, parameters={"n": "many"})
            refused = None
        except PrefectHTTPStatusError as exc:
            refused = [exc.response.status_code, exc.response.json()["detail"]]
        await client.pause_deployment(deployment_id)
        paused = (await client.read_deployment(deployment_id)).paused
        await client.resume_deployment(deployment_id)
        added = await client.create_deployment_schedules(
            deployment_id,
            [
                (CronSchedule(cron="0 9 * * *", timezone="Europe/Paris"), True),
                (RRuleSchedule(rrule="FREQ=DAILY"), False),
            ],
        )
        await client.update_deployment_schedule(deployment_id, added[0].id, active=False)
        schedules = await client.read_deployment_schedules(deployment_id)
        await client.delete_deployment_schedule(deployment_id, added[1].id)
        scheduled = await client.get_scheduled_flow_runs_for_deployments([deployment_id])
        listed = await client.read_deployments()
        await client.delete_deployment(deployment_id)
        print(json.dumps({
            "same": deployment.id == by_name.id == deployment_id,
            "concurrency_limit": deployment.concurrency_limit,
            "interval": deployment.schedules[0].schedule.interval.total_seconds(),
            "run": [str(run.deployment_id), run.parameters, run.state.type.value],
            "refused": refused,
            "paused": paused,
            "schedules": [(type(s.schedule).__name__, s.active) for s in schedules],
            "scheduled": [str(r.id) for r in scheduled],
            "listed": [d.name for d in listed],
        }))


asyncio.run(main())
"""


async def test_prefect_client_manages_deployments(client: httpx.AsyncClient, base_url: str, tmp_path: Path) -> None:
    seen = await run_prefect_client_script(CLIENT_SCRIPT, base_url, tmp_path, CLIENT_TIMEOUT_SECONDS)
    assert seen["same"] is True
    assert seen["concurrency_limit"] == 2
    assert seen["interval"] == 3600.0
    deployment_id, parameters, state = seen["run"]
    assert (parameters, state) == ({"n": 1, "name": "y"}, "SCHEDULED")
    assert seen["refused"][0] == 422 and "'n'" in seen["refused"][1]
    assert seen["paused"] is True
    assert seen["schedules"] == [["IntervalSchedule", True], ["CronSchedule", False], ["RRuleSchedule", False]]
    assert len(seen["scheduled"]) == 1  # the run created from the deployment, due now
    assert seen["listed"] == ["nightly"]
    assert (await client.get(f"/deployments/{deployment_id}")).status_code == 404

"""The Deployments and Work Pools pages' queries on SQLite and PostgreSQL: deployments by name with their flow,
pool and schedules; upcoming and past runs; pools with grouped queue and online-worker counts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.deployments import deployments
from baton.server.models.views import deployment_pages, run_pages
from baton.server.models.work_pools import work_pools, work_queues, workers
from baton.server.schemas.deployments import DeploymentCreate
from baton.server.schemas.requests import RunFilterSet
from baton.server.schemas.work_pools import WorkPoolCreate, WorkQueueCreate

SOON = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


async def _flow(connection: Any, name: str) -> uuid.UUID:
    flow_id = uuid.uuid4()
    await connection.execute(sa.insert(t.flow).values(id=flow_id, name=name, tags=[]))
    return flow_id


async def _run(
    connection: Any, flow_id: uuid.UUID, deployment_id: uuid.UUID, name: str, state: str, **values: Any
) -> uuid.UUID:
    run_id = uuid.uuid4()
    await connection.execute(
        sa.insert(t.flow_run).values(
            id=run_id,
            flow_id=flow_id,
            deployment_id=deployment_id,
            name=name,
            state_id=uuid.uuid4(),
            state_type=state,
            state_name=state.title(),
            tags=[],
            **values,
        )
    )
    return run_id


async def test_deployment_page_with_schedules_and_runs(database: Database) -> None:
    async with database.write() as connection:
        etl = await _flow(connection, "etl")
        report = await _flow(connection, "report")
        await work_pools.create_work_pool(connection, WorkPoolCreate(name="pool-a"))
        schedules = [{"schedule": {"interval": 60}}, {"schedule": {"cron": "0 9 * * *"}, "active": False}]
        ids = {}
        for name, flow_id, pool in (("nightly", etl, "pool-a"), ("adhoc", etl, None), ("weekly", report, None)):
            body = {"name": name, "flow_id": flow_id, "work_pool_name": pool}
            if name == "nightly":
                body["schedules"] = schedules
            ids[name], _ = await deployments.create_deployment(connection, DeploymentCreate.model_validate(body))
        nightly = ids["nightly"]
        later = await _run(
            connection, etl, nightly, "later", "SCHEDULED", expected_start_time=SOON + dt.timedelta(minutes=5)
        )
        sooner = await _run(connection, etl, nightly, "sooner", "SCHEDULED", expected_start_time=SOON)
        done = await _run(connection, etl, nightly, "done", "COMPLETED", start_time=SOON - dt.timedelta(hours=2))
        await _run(connection, etl, ids["adhoc"], "other", "COMPLETED", start_time=SOON - dt.timedelta(hours=2))

    async with database.read() as connection:
        page = await deployment_pages.read_deployment_page(connection, None, 2)
        assert [row["name"] for row in page.rows] == ["adhoc", "nightly"]
        assert page.next is not None
        rest = await deployment_pages.read_deployment_page(connection, None, 2, after=page.next)
        assert [row["name"] for row in rest.rows] == ["weekly"] and rest.next is None
        by_name = {row["name"]: row for row in page.rows}
        assert by_name["nightly"]["flow_name"] == "etl"
        assert (by_name["nightly"]["work_pool_name"], by_name["nightly"]["work_queue_name"]) == ("pool-a", "default")
        assert by_name["adhoc"]["work_pool_name"] is None
        assert by_name["nightly"]["next_run"]["id"] == sooner and by_name["adhoc"]["next_run"] is None
        assert [(s["schedule"].get("interval"), s["active"]) for s in by_name["nightly"]["schedules"]] == [
            (60.0, True),
            (None, False),
        ]
        # The search matches a deployment's name or its flow's, in any case.
        found = await deployment_pages.read_deployment_page(connection, "REPO", 10)
        assert [row["name"] for row in found.rows] == ["weekly"]

        upcoming = await deployment_pages.read_upcoming_runs(connection, nightly, 10)
        assert [row["id"] for row in upcoming] == [sooner, later]
        past = RunFilterSet.model_validate(
            {"flow_runs": {"deployment_id": {"any_": [nightly]}, "state": {"type": {"not_any_": ["SCHEDULED"]}}}}
        )
        past_page = await run_pages.read_run_page(connection, past, run_pages.RunSort.START_DESC, 10)
        assert [row["id"] for row in past_page.rows] == [done]
        every = RunFilterSet.model_validate({"flow_runs": {"deployment_id": {"any_": [nightly]}}})
        assert await run_pages.count_runs_capped(connection, every, 100) == 3
        assert await deployment_pages.read_flow_name(connection, etl) == "etl"


async def test_work_pool_summaries_count_queues_and_online_workers(database: Database) -> None:
    async with database.write() as connection:
        busy, _ = await work_pools.create_work_pool(connection, WorkPoolCreate(name="busy", concurrency_limit=3))
        await work_pools.create_work_pool(connection, WorkPoolCreate(name="alone"))
        for name in ("urgent", "bulk"):
            await work_queues.create_work_queue(connection, busy["id"], WorkQueueCreate(name=name))
        for name in ("w1", "w2", "w3"):
            await workers.record_heartbeat(connection, busy, name, None)
        await connection.execute(sa.update(t.worker).where(t.worker.c.name == "w3").values(status="OFFLINE"))
        flow_id = await _flow(connection, "etl")
        for name, queue in (("a", "urgent"), ("b", "urgent"), ("c", None)):
            body = {"name": name, "flow_id": flow_id, "work_pool_name": "busy", "work_queue_name": queue}
            await deployments.create_deployment(connection, DeploymentCreate.model_validate(body))

    async with database.read() as connection:
        pools = await deployment_pages.read_work_pool_summaries(connection)
        summary = {row["name"]: (row["queue_count"], row["online_workers"], row["concurrency_limit"]) for row in pools}
        assert summary == {"alone": (1, 0, None), "busy": (3, 2, 3)}
        assert [row["name"] for row in pools] == ["alone", "busy"]
        queues = await deployment_pages.read_pool_queues(connection, busy["id"])
        assert [queue["name"] for queue in queues] == ["default", "urgent", "bulk"]
        counts = await deployment_pages.count_pool_deployments(connection, busy["id"])
        by_name = {queue["name"]: counts.get(queue["id"], 0) for queue in queues}
        assert by_name == {"default": 1, "urgent": 2, "bulk": 0}


async def test_new_deployment_form_choices_and_the_flows_latest_schema(database: Database) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    newer = {"type": "object", "properties": {"n": {"type": "integer"}, "m": {"type": "string"}}}
    async with database.write() as c:
        flow_id = await _flow(c, "b-schema")
        bare = await _flow(c, "a-bare")
        await work_pools.create_work_pool(c, WorkPoolCreate(name="z-pool", type="process"))
        await work_pools.create_work_pool(c, WorkPoolCreate(name="a-pool", type="process"))
        for name, the_schema in (("old", schema), ("empty", {}), ("none", None)):
            body = DeploymentCreate(name=name, flow_id=flow_id, parameter_openapi_schema=the_schema)
            await deployments.create_deployment(c, body)
        await deployments.create_deployment(c, DeploymentCreate(name="plain", flow_id=bare))
    async with database.read() as c:
        # The latest deployments have an empty or no schema: the older one's is the flow's.
        assert await deployment_pages.read_latest_parameter_schema(c, flow_id) == schema
        assert await deployment_pages.read_latest_parameter_schema(c, bare) is None
        assert [row["name"] for row in await deployment_pages.read_flow_choices(c)] == ["a-bare", "b-schema"]
        assert [row["id"] for row in await deployment_pages.read_flow_choices(c, limit=1)] == [bare]
        assert await deployment_pages.read_work_pool_names(c) == ["a-pool", "z-pool"]
    async with database.write() as c:
        await deployments.create_deployment(
            c, DeploymentCreate(name="new", flow_id=flow_id, parameter_openapi_schema=newer)
        )
    async with database.read() as c:
        assert await deployment_pages.read_latest_parameter_schema(c, flow_id) == newer

"""The metric-trigger evaluator on both databases: flow runs seeded with known states and times, the periodic job
run at chosen moments, and the firings, their values, their action runs and the queued messages checked in the
database and on the in-memory broker."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import Any

import dramatiq
import httpx
import pytest
import sqlalchemy as sa

from baton.actors.automation_metrics import evaluate_metric_triggers
from baton.actors.runtime import ActorRuntime
from baton.actors.setup import ACTOR_FUNCTIONS, periodic_jobs
from baton.queue import messages
from baton.queue.broker import make_broker
from baton.server.context import ServerContext
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.automations.automations import create_automation
from baton.server.models.automations.metrics import read_metric
from baton.server.schemas.automations import AutomationCreate, MetricTrigger
from baton.settings import Settings
from tests.pipeline import eventually

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


class Seed:
    """Rows written straight to the database, so that runs can have ended (or started) in the past."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.flow_id = uuid.uuid4()

    async def flow(self) -> uuid.UUID:
        async with self.database.write() as connection:
            await connection.execute(sa.insert(t.flow).values(id=self.flow_id, name=f"flow-{self.flow_id}"))
        return self.flow_id

    async def deployment(self, name: str) -> uuid.UUID:
        deployment_id = uuid.uuid4()
        async with self.database.write() as connection:
            await connection.execute(sa.insert(t.deployment).values(id=deployment_id, name=name, flow_id=self.flow_id))
        return deployment_id

    async def work_pool(self, name: str) -> uuid.UUID:
        """A pool and its one queue; returns the queue's id."""
        pool_id, queue_id = uuid.uuid4(), uuid.uuid4()
        async with self.database.write() as connection:
            await connection.execute(sa.insert(t.work_pool).values(id=pool_id, name=name, default_queue_id=queue_id))
            await connection.execute(sa.insert(t.work_queue).values(id=queue_id, name="default", work_pool_id=pool_id))
        return queue_id

    async def run(self, state_type: str, **fields: Any) -> None:
        async with self.database.write() as connection:
            await connection.execute(
                sa.insert(t.flow_run).values(
                    id=uuid.uuid4(),
                    name=f"run-{uuid.uuid4().hex[:8]}",
                    flow_id=self.flow_id,
                    state_type=state_type,
                    state_name=state_type.title(),
                    **fields,
                )
            )

    async def ended(self, state_type: str, ago: dt.timedelta, run_time: float = 60.0, **fields: Any) -> None:
        end = NOW - ago
        await self.run(
            state_type,
            start_time=end - dt.timedelta(seconds=run_time),
            end_time=end,
            total_run_time=run_time,
            **fields,
        )


def automation(trigger: dict[str, Any], name: str = "metric") -> AutomationCreate:
    return AutomationCreate.model_validate(
        {
            "name": name,
            "trigger": trigger,
            "actions": [{"type": "do-nothing"}],
            "actions_on_resolve": [{"type": "do-nothing"}, {"type": "do-nothing"}],
        }
    )


def metric_trigger(name: str, operator: str, threshold: float, **fields: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "posture": "Metric",
        "match": {"prefect.resource.id": "prefect.flow-run.*"},
        "metric": {"name": name, "operator": operator, "threshold": threshold, "range": 3600, "firing_for": 300},
        **fields,
    }


@pytest.fixture
def broker(tmp_path: Path) -> dramatiq.Broker:
    return make_broker(Settings(home=tmp_path))


@pytest.fixture
def runtime(database: Database, broker: dramatiq.Broker, tmp_path: Path) -> ActorRuntime:
    return ActorRuntime(Settings(home=tmp_path), broker, database)


def queued(broker: dramatiq.Broker, actor_name: str) -> list[list[Any]]:
    """The arguments of the messages for `actor_name` waiting on the automations queue (taken off it)."""
    queue = broker.queues[messages.AUTOMATIONS_QUEUE]
    found = []
    while not queue.empty():
        message = dramatiq.Message.decode(queue.get_nowait())
        if message.actor_name == actor_name:
            found.append(list(message.args))
    return found


async def firings(database: Database) -> list[dict[str, Any]]:
    async with database.read() as connection:
        query = sa.select(t.automation_firing).order_by(t.automation_firing.c.occurred)
        return [dict(row) for row in (await connection.execute(query)).mappings()]


async def action_runs(database: Database, firing_id: uuid.UUID) -> list[dict[str, Any]]:
    async with database.read() as connection:
        query = sa.select(t.automation_action_run).where(t.automation_action_run.c.firing_id == firing_id)
        return [dict(row) for row in (await connection.execute(query)).mappings()]


async def test_a_deployment_whose_success_share_stays_low_fires_once_then_resolves(
    database: Database, runtime: ActorRuntime, broker: dramatiq.Broker
) -> None:
    seed = Seed(database)
    await seed.flow()
    failing, healthy = await seed.deployment("failing"), await seed.deployment("healthy")
    await seed.ended("COMPLETED", 10 * MINUTE, deployment_id=failing)
    for _ in range(3):
        await seed.ended("FAILED", 12 * MINUTE, deployment_id=failing)
    await seed.ended("CANCELLED", 5 * MINUTE, deployment_id=failing)  # neither a success nor a failure
    await seed.ended("FAILED", 2 * dt.timedelta(hours=1), deployment_id=failing)  # before the window
    for _ in range(4):
        await seed.ended("COMPLETED", 20 * MINUTE, deployment_id=healthy)
    trigger = metric_trigger("successes", "<", 0.5, match_related={"prefect.resource.role": "deployment"})
    async with database.write() as connection:
        row = await create_automation(connection, automation(trigger))

    await evaluate_metric_triggers(runtime, now=NOW)
    await evaluate_metric_triggers(runtime, now=NOW + 4 * MINUTE)
    assert await firings(database) == []

    await evaluate_metric_triggers(runtime, now=NOW + 5 * MINUTE)
    [fired] = await firings(database)
    assert fired["automation_id"] == row["id"]
    assert fired["trigger_state"] == "Triggered"
    assert fired["triggering_value"] == 0.25
    resource = f"prefect.deployment.{failing}"
    assert fired["triggering_labels"] == {"prefect.resource.id": resource, "prefect.resource.role": "deployment"}
    assert fired["firing_key"] == f"metric:{row['trigger']['id']}:{resource}:{NOW.isoformat()}:Triggered"
    [run] = await action_runs(database, fired["id"])
    assert (run["phase"], run["action"], run["status"]) == ("actions", {"type": "do-nothing"}, "PENDING")
    assert queued(broker, messages.RUN_AUTOMATION_ACTIONS) == [[[str(run["id"])]]]

    await evaluate_metric_triggers(runtime, now=NOW + 6 * MINUTE)
    await evaluate_metric_triggers(runtime, now=NOW + 6 * MINUTE)
    assert len(await firings(database)) == 1
    assert queued(broker, messages.RUN_AUTOMATION_ACTIONS) == []

    for _ in range(3):  # 4 of 7 now: above the threshold
        await seed.ended("COMPLETED", -6 * MINUTE, deployment_id=failing)
    await evaluate_metric_triggers(runtime, now=NOW + 7 * MINUTE)
    await evaluate_metric_triggers(runtime, now=NOW + 11 * MINUTE)
    assert len(await firings(database)) == 1
    await evaluate_metric_triggers(runtime, now=NOW + 12 * MINUTE)
    resolved = (await firings(database))[-1]
    assert resolved["trigger_state"] == "Resolved"
    assert resolved["triggering_value"] == pytest.approx(4 / 7)
    assert resolved["firing_key"].endswith(f"{NOW.isoformat()}:Resolved")
    runs = await action_runs(database, resolved["id"])
    assert sorted((run["phase"], run["action_index"]) for run in runs) == [
        ("actions_on_resolve", 0),
        ("actions_on_resolve", 1),
    ]
    [[ids]] = queued(broker, messages.RUN_AUTOMATION_ACTIONS)
    assert sorted(ids) == sorted(str(run["id"]) for run in runs)

    await evaluate_metric_triggers(runtime, now=NOW + 13 * MINUTE)
    assert len(await firings(database)) == 2
    async with database.read() as connection:
        assert (await connection.execute(sa.select(sa.func.count()).select_from(t.automation_bucket))).scalar() == 0


async def test_average_duration_over_all_matching_runs(database: Database, runtime: ActorRuntime) -> None:
    seed = Seed(database)
    await seed.flow()
    await seed.ended("COMPLETED", 5 * MINUTE, run_time=100.0)
    await seed.ended("FAILED", 5 * MINUTE, run_time=200.0)
    await seed.ended("CRASHED", 5 * MINUTE, run_time=600.0)
    await seed.ended("CANCELLED", 5 * MINUTE, run_time=5000.0)  # cancelled runs are not timed
    await seed.run("RUNNING", start_time=NOW - 50 * MINUTE, total_run_time=3000.0)  # not ended
    trigger = metric_trigger("duration", ">", 250.0)
    async with database.write() as connection:
        await create_automation(connection, automation(trigger))

    for minutes in (0, 5, 6):
        await evaluate_metric_triggers(runtime, now=NOW + minutes * MINUTE)
    [fired] = await firings(database)
    assert fired["triggering_value"] == 300.0
    assert fired["triggering_labels"] == {}
    assert fired["occurred"] == NOW + 5 * MINUTE


async def test_lateness_per_work_pool_counts_started_and_still_waiting_runs(database: Database) -> None:
    seed = Seed(database)
    await seed.flow()
    prod, other = await seed.work_pool("prod"), await seed.work_pool("other")
    expected = NOW - 30 * MINUTE
    await seed.run("RUNNING", expected_start_time=expected, start_time=expected + 2 * MINUTE, work_queue_id=prod)
    await seed.run("COMPLETED", expected_start_time=expected, start_time=expected, work_queue_id=prod)
    await seed.run("SCHEDULED", expected_start_time=NOW - 10 * MINUTE, work_queue_id=prod)  # still late
    await seed.run("SCHEDULED", expected_start_time=NOW + 10 * MINUTE, work_queue_id=prod)  # not due yet
    await seed.run("RUNNING", expected_start_time=expected, start_time=expected + 9 * MINUTE, work_queue_id=other)
    trigger = MetricTrigger.model_validate(
        metric_trigger(
            "lateness",
            ">",
            60.0,
            match_related={"prefect.resource.role": "work-pool", "prefect.resource.name": "prod"},
        )
    )
    async with database.read() as connection:
        groups = await read_metric(connection, trigger, NOW)
        pool_id = await connection.execute(sa.select(t.work_queue.c.work_pool_id).where(t.work_queue.c.id == prod))
        resource = f"prefect.work-pool.{pool_id.scalar()}"
    assert list(groups) == [resource]
    assert groups[resource].runs == 3
    assert groups[resource].value == pytest.approx((120 + 0 + 600) / 3)


async def test_runs_are_selected_by_tag_and_by_deployment_name(database: Database) -> None:
    seed = Seed(database)
    await seed.flow()
    etl = await seed.deployment("etl-nightly")
    await seed.ended("FAILED", 5 * MINUTE, deployment_id=etl, tags=["prod"])
    await seed.ended("COMPLETED", 5 * MINUTE, deployment_id=etl, tags=["dev"])
    await seed.ended("COMPLETED", 5 * MINUTE, tags=["prod"])
    by_tag = MetricTrigger.model_validate(
        metric_trigger("successes", "<", 0.9, match_related={"prefect.resource.id": "prefect.tag.prod"})
    )
    by_name = MetricTrigger.model_validate(
        metric_trigger(
            "successes",
            "<",
            0.9,
            match_related=[{"prefect.resource.role": "deployment", "prefect.resource.name": "etl-*"}],
        )
    )
    async with database.read() as connection:
        assert {key: group.value for key, group in (await read_metric(connection, by_tag, NOW)).items()} == {"*": 0.5}
        assert {key: group.value for key, group in (await read_metric(connection, by_name, NOW)).items()} == {
            f"prefect.deployment.{etl}": 0.5
        }


async def test_a_metric_trigger_inside_a_compound_trigger_is_skipped_and_logged_once(
    database: Database, runtime: ActorRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    seed = Seed(database)
    await seed.flow()
    await seed.ended("FAILED", 5 * MINUTE)
    compound = {
        "type": "compound",
        "require": "any",
        "triggers": [metric_trigger("successes", "<", 0.5), {"type": "event", "posture": "Reactive"}],
    }
    async with database.write() as connection:
        row = await create_automation(connection, automation(compound))
    with caplog.at_level(logging.WARNING, logger="baton.actors"):
        for minutes in (0, 5, 10):
            await evaluate_metric_triggers(runtime, now=NOW + minutes * MINUTE)
    assert [record.getMessage() for record in caplog.records] == [
        f"Automation {row['id']} nests a metric trigger in a composite trigger; metric triggers are only evaluated "
        "as an automation's own trigger"
    ]
    assert await firings(database) == []
    async with database.read() as connection:
        assert (await connection.execute(sa.select(sa.func.count()).select_from(t.automation_bucket))).scalar() == 0


async def test_the_clients_metric_trigger_is_accepted(client: httpx.AsyncClient) -> None:
    from prefect.events.schemas.automations import MetricTrigger as ClientMetricTrigger
    from prefect.events.schemas.automations import MetricTriggerQuery, PrefectMetric

    deployment_id = uuid.uuid4()
    trigger = ClientMetricTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.id": f"prefect.deployment.{deployment_id}"},
        metric=MetricTriggerQuery(
            name=PrefectMetric.successes,
            threshold=0.9,
            operator="<",
            range=dt.timedelta(hours=1),
            firing_for=dt.timedelta(minutes=10),
        ),
    )
    body = {
        "name": "low success share",
        "trigger": trigger.model_dump(mode="json"),
        "actions": [{"type": "do-nothing"}],
    }
    response = await client.post("/automations/", json=body)
    assert response.status_code == 201, response.text
    stored = (await client.get(f"/automations/{response.json()['id']}")).json()["trigger"]
    assert stored["type"] == "metric"
    assert stored["posture"] == "Metric"
    assert stored["metric"] == {
        "name": "successes",
        "threshold": 0.9,
        "operator": "<",
        "range": 3600.0,
        "firing_for": 600.0,
    }
    assert stored["match_related"] == {"prefect.resource.id": f"prefect.deployment.{deployment_id}"}


def test_the_beat_runs_the_evaluator(tmp_path: Path) -> None:
    jobs = {job.name: job for job in periodic_jobs(Settings(home=tmp_path))}
    assert jobs[messages.EVALUATE_METRIC_TRIGGERS].interval == 30.0
    assert ACTOR_FUNCTIONS[messages.EVALUATE_METRIC_TRIGGERS] is evaluate_metric_triggers


async def test_two_evaluators_at_once_fire_once(database: Database, runtime: ActorRuntime, tmp_path: Path) -> None:
    seed = Seed(database)
    await seed.flow()
    await seed.ended("FAILED", 5 * MINUTE)
    async with database.write() as connection:
        await create_automation(connection, automation(metric_trigger("successes", "<", 0.5)))
    other = ActorRuntime(Settings(home=tmp_path), make_broker(Settings(home=tmp_path)), database)

    await evaluate_metric_triggers(runtime, now=NOW)
    await asyncio.gather(
        evaluate_metric_triggers(runtime, now=NOW + 5 * MINUTE),
        evaluate_metric_triggers(other, now=NOW + 5 * MINUTE + dt.timedelta(seconds=1)),
    )
    [fired] = await firings(database)
    assert fired["triggering_value"] == 0.0
    assert len(await action_runs(database, fired["id"])) == 1


async def test_the_message_runs_the_evaluator_on_the_embedded_worker(
    pipeline: ServerContext, client: httpx.AsyncClient
) -> None:
    seed = Seed(pipeline.database)
    await seed.flow()
    now = utcnow()
    await seed.run("FAILED", start_time=now - 2 * MINUTE, end_time=now - MINUTE, total_run_time=60.0)
    body = {"name": "failing", "trigger": metric_trigger("successes", "<", 0.5), "actions": [{"type": "do-nothing"}]}
    assert (await client.post("/automations/", json=body)).status_code == 201

    await pipeline.publisher.send(messages.evaluate_metric_triggers())

    async def breaching() -> list[Any]:
        async with pipeline.database.read() as connection:
            query = sa.select(t.automation_bucket.c.bucketing_key, t.automation_bucket.c.last_operation)
            return list((await connection.execute(query)).all())

    assert await eventually(breaching) == [("*", "breaching")]


async def test_a_match_on_deployments_groups_their_runs(database: Database) -> None:
    seed = Seed(database)
    await seed.flow()
    nightly, hourly = await seed.deployment("nightly"), await seed.deployment("hourly")
    await seed.ended("FAILED", 5 * MINUTE, deployment_id=nightly)
    await seed.ended("COMPLETED", 5 * MINUTE, deployment_id=nightly)
    await seed.ended("COMPLETED", 5 * MINUTE, deployment_id=hourly)
    await seed.ended("FAILED", 5 * MINUTE)  # no deployment
    trigger = MetricTrigger.model_validate(
        metric_trigger("successes", "<", 0.9, match={"prefect.resource.id": "prefect.deployment.*"})
    )
    async with database.read() as connection:
        groups = await read_metric(connection, trigger, NOW)
    assert {key: group.value for key, group in groups.items()} == {
        f"prefect.deployment.{nightly}": 0.5,
        f"prefect.deployment.{hourly}": 1.0,
    }

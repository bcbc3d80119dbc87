"""Running the actions of automation firings: each action type's effect in the database (or at a receiver on
loopback standing in for Slack and for a webhook), the action events, failures with their reasons, and exactly-once
execution across a redelivered message and a process killed mid-action.

Firings are recorded as the trigger engine records them (`record_firing`); the actor function is called as the
queue would call it, with a runtime on the pipeline's broker so that what an action announces (a flow run's state
change) runs through the embedded actors."""

from __future__ import annotations

import asyncio
import datetime as dt
import types
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dramatiq
import httpx
import pytest
import sqlalchemy as sa
import tornado.httpserver
import tornado.netutil
import tornado.web

from baton.actors import automation_actions
from baton.actors.runtime import ActorRuntime
from baton.actors.setup import make_services_broker, periodic_jobs
from baton.queue import messages
from baton.server.automations.actions.deployments import idempotency_key
from baton.server.context import ServerContext
from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.automations.automations import read_automation
from baton.server.models.automations.firings import (
    claim_action_run,
    read_firings,
    record_firing,
    unfinished_action_run_ids,
)
from baton.server.schemas.automations import TriggerState
from baton.settings import Settings
from tests.pipeline import create_flow_run, eventually
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace

UI = "http://baton.example.com"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, api_database_connection_url=database_url, ui_url=UI)


@pytest.fixture
async def runtime(pipeline: ServerContext) -> AsyncIterator[ActorRuntime]:
    """An actor runtime as a services process has one, on the pipeline's broker and database."""
    found = ActorRuntime(pipeline.settings, pipeline.publisher.broker, pipeline.database)
    yield found
    await found.close()


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP endpoint on loopback recording every request."""

    url: str
    status: int = 200
    requests: list[Request] = field(default_factory=list)


class _ReceiverHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

    def initialize(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def _record(self) -> None:
        request = self.request
        self.receiver.requests.append(Request(request.method or "", request.path, dict(request.headers), request.body))
        self.set_status(self.receiver.status)
        self.finish("ok" if self.receiver.status < 400 else "receiver says no")

    post = put = patch = delete = get = _record  # type: ignore[assignment]

    def check_xsrf_cookie(self) -> None:
        return None


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    found = Receiver(url=f"http://127.0.0.1:{port}/hook")
    server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/hook", _ReceiverHandler, {"receiver": found})]))
    server.add_sockets(sockets)
    yield found
    server.stop()
    await server.close_all_connections()


# --- helpers --------------------------------------------------------------------------------------------------------


async def create_automation(client: httpx.AsyncClient, *actions: dict[str, Any], name: str = "react") -> dict[str, Any]:
    body = {
        "name": name,
        "trigger": {"type": "event", "posture": "Reactive", "expect": ["test.event"], "threshold": 1},
        "actions": list(actions),
    }
    response = await client.post("/automations/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def fire(
    pipeline: ServerContext,
    automation: dict[str, Any],
    event: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
) -> list[str]:
    """Record a Triggered firing of the automation as the engine does; the ids of its action runs."""
    async with pipeline.database.write() as connection:
        row = await read_automation(connection, uuid.UUID(automation["id"]))
        assert row is not None
        recorded = await record_firing(
            connection,
            row,
            trigger_id=uuid.UUID(row["trigger"]["id"]),
            trigger_state=TriggerState.TRIGGERED,
            firing_key=str(uuid.uuid4()),
            occurred=utcnow(),
            triggering_labels=labels,
            triggering_event=event,
        )
    assert recorded is not None
    return [str(each) for each in recorded.action_run_ids]


async def action_runs(pipeline: ServerContext, automation: dict[str, Any]) -> list[dict[str, Any]]:
    """The automation's action runs, of its newest firing first, each in index order."""
    async with pipeline.database.read() as connection:
        firings = await read_firings(connection, uuid.UUID(automation["id"]), 100)
    return [run for firing in firings for run in firing["action_runs"]]


async def action_events(pipeline: ServerContext) -> list[dict[str, Any]]:
    query = (
        sa.select(t.events)
        .where(t.events.c.event.like("prefect.automation.action.%"))
        .order_by(t.events.c.occurred, t.events.c.event.desc())
    )
    async with pipeline.database.read() as connection:
        return [dict(row) for row in (await connection.execute(query)).mappings()]


def flow_run_event(run: dict[str, Any], state: str = "Failed", **payload: Any) -> dict[str, Any]:
    """A `prefect.flow-run.<state>` event of `run`, as Baton records it."""
    now = utcnow().isoformat()
    related = [{"prefect.resource.id": f"prefect.flow.{run['flow_id']}", "prefect.resource.role": "flow"}]
    if run.get("deployment_id"):
        related.append(
            {"prefect.resource.id": f"prefect.deployment.{run['deployment_id']}", "prefect.resource.role": "deployment"}
        )
    return {
        "id": str(uuid.uuid4()),
        "occurred": now,
        "event": f"prefect.flow-run.{state}",
        "resource": {
            "prefect.resource.id": f"prefect.flow-run.{run['id']}",
            "prefect.resource.name": run["name"],
            "prefect.state-message": "",
            "prefect.state-name": state,
            "prefect.state-timestamp": now,
            "prefect.state-type": state.upper(),
        },
        "related": related,
        "payload": payload,
    }


async def deployment(client: httpx.AsyncClient, name: str = "clean-up", **fields: Any) -> dict[str, Any]:
    flow = (await client.post("/flows/", json={"name": "janitor"})).json()
    response = await client.post("/deployments/", json={"name": name, "flow_id": flow["id"], **fields})
    assert response.status_code == 201, response.text
    return (await client.get(f"/deployments/{response.json()['id']}")).json()


async def runs_of(client: httpx.AsyncClient, deployment_id: str) -> list[dict[str, Any]]:
    body = {"flow_runs": {"deployment_id": {"any_": [deployment_id]}}}
    return (await client.post("/flow_runs/filter", json=body)).json()


async def set_state(client: httpx.AsyncClient, run: dict[str, Any], state: str, **fields: Any) -> None:
    response = await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": state, **fields}})
    assert response.json()["status"] == "ACCEPT", response.text


# --- tests ----------------------------------------------------------------------------------------------------------


async def test_an_action_runs_once_and_emits_its_events(
    client: httpx.AsyncClient, pipeline: ServerContext, runtime: ActorRuntime
) -> None:
    automation = await create_automation(client, {"type": "do-nothing"})
    triggering = {
        "id": str(uuid.uuid4()),
        "occurred": utcnow().isoformat(),
        "event": "test.event",
        "resource": {"prefect.resource.id": "my.thing"},
        "related": [],
        "payload": {},
    }
    ids = await fire(pipeline, automation, triggering)

    await automation_actions.run_automation_actions(runtime, ids)
    # The queue delivers the message again (a worker died before acknowledging): nothing runs twice.
    await automation_actions.run_automation_actions(runtime, ids)

    (run,) = await action_runs(pipeline, automation)
    assert (run["status"], run["attempts"], run["reason"]) == ("SUCCEEDED", 1, None)
    triggered, executed = await action_events(pipeline)
    assert triggered["event"] == "prefect.automation.action.triggered"
    assert executed["event"] == "prefect.automation.action.executed"
    resource = {
        "prefect.resource.id": f"prefect.automation.{automation['id']}",
        "prefect.resource.name": "react",
        "prefect.trigger-type": "event",
        "prefect.posture": "Reactive",
    }
    assert triggered["resource"] == executed["resource"] == resource
    details = {"action_index": 0, "action_type": "do-nothing", "invocation": ids[0]}
    assert triggered["payload"] == executed["payload"] == details
    assert [r["prefect.resource.role"] for r in executed["related"]] == [
        "automation-triggered-event",
        "triggering-event",
    ]
    assert executed["related"][1]["prefect.resource.id"] == f"prefect.event.{triggering['id']}"
    assert str(triggered["follows"]) == triggering["id"] and executed["follows"] == triggered["id"]


async def test_run_deployment_renders_parameters_and_makes_one_flow_run(
    client: httpx.AsyncClient, pipeline: ServerContext, runtime: ActorRuntime
) -> None:
    target = await deployment(client, parameters={"keep": "default", "who": "nobody"})
    failed = await create_flow_run(client, name="sad-otter")
    automation = await create_automation(
        client,
        {
            "type": "run-deployment",
            "source": "selected",
            "deployment_id": target["id"],
            "parameters": {"who": "{{ flow_run.name }}", "retries": "{{ event.payload.retries }}", "note": "plain"},
            "job_variables": {"image": "cleaner:{{ event.payload.tag }}"},
            "schedule_after": 60,
        },
    )
    ids = await fire(pipeline, automation, flow_run_event(failed, retries=3, tag="v2"))

    await automation_actions.run_automation_actions(runtime, ids)
    await automation_actions.run_automation_actions(runtime, ids)

    (made,) = await runs_of(client, target["id"])
    assert made["parameters"] == {"keep": "default", "who": "sad-otter", "retries": 3, "note": "plain"}
    assert made["job_variables"] == {"image": "cleaner:v2"}
    assert made["state"]["type"] == "SCHEDULED"
    scheduled = dt.datetime.fromisoformat(made["state"]["state_details"]["scheduled_time"])
    assert 50 < (scheduled - utcnow()).total_seconds() <= 60
    (run,) = await action_runs(pipeline, automation)
    assert run["status"] == "SUCCEEDED" and run["resulting_resource"] == f"prefect.flow-run.{made['id']}"
    _, executed = await action_events(pipeline)
    assert {
        "prefect.resource.id": f"prefect.flow-run.{made['id']}",
        "prefect.resource.role": "flow-run",
        "prefect.resource.name": made["name"],
    } in executed["related"]
    # The new run's Scheduled state is announced as the API announces it: its event is recorded.
    await eventually(lambda: _stored_event(pipeline, "prefect.flow-run.Scheduled", f"prefect.flow-run.{made['id']}"))


async def _stored_event(pipeline: ServerContext, name: str, resource_id: str) -> bool:
    query = sa.select(sa.func.count()).where(t.events.c.event == name, t.events.c.resource_id == resource_id)
    async with pipeline.database.read() as connection:
        return bool(await connection.scalar(query))


async def test_a_killed_run_deployment_reruns_after_stale_after_and_finds_its_flow_run(
    client: httpx.AsyncClient, pipeline: ServerContext, runtime: ActorRuntime
) -> None:
    target = await deployment(client)
    automation = await create_automation(
        client, {"type": "run-deployment", "source": "inferred", "parameters": {"x": 1}}
    )
    # The deployment is inferred from the triggering event.
    source = await create_flow_run(client)
    event = flow_run_event({**source, "deployment_id": target["id"]})
    (action_run_id,) = await fire(pipeline, automation, event)
    # A first attempt claims the run and makes the flow run, then its process dies before recording the outcome.
    async with pipeline.database.write() as connection:
        assert await claim_action_run(connection, uuid.UUID(action_run_id), automation_actions.STALE_AFTER)
    key = idempotency_key(types.SimpleNamespace(automation_id=automation["id"], run={"id": action_run_id}))  # type: ignore[arg-type]
    first = await client.post(f"/deployments/{target['id']}/create_flow_run", json={"idempotency_key": key})
    assert first.status_code == 201

    # Redelivered before STALE_AFTER: the run belongs to the (presumed live) first process, nothing happens.
    await automation_actions.run_automation_actions(runtime, [action_run_id])
    runs = await action_runs(pipeline, automation)
    assert [run["status"] for run in runs if str(run["id"]) == action_run_id] == ["RUNNING"]

    async with pipeline.database.write() as connection:
        await connection.execute(
            sa.update(t.automation_action_run)
            .where(t.automation_action_run.c.id == uuid.UUID(action_run_id))
            .values(updated=utcnow() - automation_actions.STALE_AFTER - dt.timedelta(seconds=1))
        )
    await automation_actions.run_automation_actions(runtime, [action_run_id])

    (made,) = await runs_of(client, target["id"])
    assert made["id"] == first.json()["id"]
    (run,) = [run for run in await action_runs(pipeline, automation) if str(run["id"]) == action_run_id]
    assert (run["status"], run["attempts"]) == ("SUCCEEDED", 2)
    assert run["resulting_resource"] == f"prefect.flow-run.{made['id']}"


async def test_the_sweep_queues_a_lost_action_again(
    client: httpx.AsyncClient, pipeline: ServerContext, runtime: ActorRuntime
) -> None:
    automation = await create_automation(client, {"type": "do-nothing"})
    (action_run_id,) = await fire(pipeline, automation)
    async with pipeline.database.write() as connection:
        await connection.execute(
            sa.update(t.automation_action_run).values(updated=utcnow() - automation_actions.STALLED_AFTER * 2)
        )

    await automation_actions.resume_stalled_actions(runtime)

    async def succeeded() -> bool:
        return [run["status"] for run in await action_runs(pipeline, automation)] == ["SUCCEEDED"]

    await eventually(succeeded)  # run by the embedded worker: the actor is declared on the broker
    sweep = {job.name: job for job in periodic_jobs(pipeline.settings)}[messages.RESUME_STALLED_ACTIONS]
    assert sweep.interval == 30.0


async def test_the_sweep_takes_a_running_action_only_once_it_is_stale(
    client: httpx.AsyncClient, pipeline: ServerContext, settings: Settings
) -> None:
    automation = await create_automation(client, {"type": "do-nothing"})
    lost, running, stale = [uuid.UUID((await fire(pipeline, automation))[0]) for _ in range(3)]
    now = utcnow()
    runs = t.automation_action_run
    async with pipeline.database.write() as connection:
        for claimed in (running, stale):
            assert await claim_action_run(connection, claimed, automation_actions.STALE_AFTER)
        for run_id, status, updated in (
            (lost, "PENDING", now - automation_actions.STALLED_AFTER * 2),
            (running, "RUNNING", now - automation_actions.STALLED_AFTER * 2),
            (stale, "RUNNING", now - automation_actions.STALE_AFTER - dt.timedelta(seconds=1)),
        ):
            await connection.execute(sa.update(runs).where(runs.c.id == run_id).values(status=status, updated=updated))
    async with pipeline.database.read() as connection:
        found = await unfinished_action_run_ids(
            connection,
            now - automation_actions.STALLED_AFTER,
            running_older_than=now - automation_actions.stale_after(settings),
        )
    # The recent RUNNING one belongs to a live process as far as anyone can tell: its claim would refuse it.
    assert sorted(found) == sorted([lost, stale])

    fast = settings.model_copy(
        update={
            "services_automations_stale_action_seconds": 3.0,
            "services_automations_stalled_actions_loop_seconds": 1.0,
        }
    )
    assert automation_actions.stale_after(fast) == dt.timedelta(seconds=3)
    sweep = {job.name: job for job in periodic_jobs(fast)}[messages.RESUME_STALLED_ACTIONS]
    assert sweep.interval == 1.0


async def test_pause_and_resume_actions_on_deployments_pools_queues_and_automations(
    client: httpx.AsyncClient, pipeline: ServerContext, runtime: ActorRuntime
) -> None:
    paused_deployment = await deployment(client, name="to-pause")
    resumed_deployment = await deployment(client, name="to-resume", paused=True)
    pool = (await client.post("/work_pools/", json={"name": "pool-a", "type": "process"})).json()
    other_pool = (await client.post("/work_pools/", json={"name": "pool-b", "type": "process"})).json()
    await client.patch("/work_pools/pool-b", json={"is_paused": True})
    other = await create_automation(client, {"type": "do-nothing"}, name="other")
    automation = await create_automation(
        client,
        {"type": "pause-deployment", "source": "selected", "deployment_id": paused_deployment["id"]},
        {"type": "resume-deployment", "source": "selected", "deployment_id": resumed_deployment["id"]},
        {"type": "pause-work-pool", "source": "inferred"},
        {"type": "resume-work-pool", "source": "selected", "work_pool_id": other_pool["id"]},
        {"type": "pause-work-queue", "source": "selected", "work_queue_id": pool["default_queue_id"]},
        {"type": "pause-automation", "source": "selected", "automation_id": other["id"]},
    )
    event = {
        "id": str(uuid.uuid4()),
        "occurred": utcnow().isoformat(),
        "event": "prefect.work-pool.not-ready",
        "resource": {"prefect.resource.id": f"prefect.work-pool.{pool['id']}", "prefect.resource.name": "pool-a"},
        "related": [],
        "payload": {},
    }
    ids = await fire(pipeline, automation, event)

    await automation_actions.run_automation_actions(runtime, ids)

    assert [run["status"] for run in await action_runs(pipeline, automation)] == ["SUCCEEDED"] * 6
    assert (await client.get(f"/deployments/{paused_deployment['id']}")).json()["paused"] is True
    assert (await client.get(f"/deployments/{resumed_deployment['id']}")).json()["paused"] is False
    assert (await client.get("/work_pools/pool-a")).json()["status"] == "PAUSED"
    assert (await client.get("/work_pools/pool-b")).json()["is_paused"] is False
    assert (await client.get(f"/work_queues/{pool['default_queue_id']}")).json()["is_paused"] is True
    assert (await client.get(f"/automations/{other['id']}")).json()["enabled"] is False

    resume = await create_automation(client, {"type": "resume-automation", "source": "inferred"}, name="resumer")
    on_other = {
        **event,
        "id": str(uuid.uuid4()),
        "resource": {"prefect.resource.id": f"prefect.automation.{other['id']}"},
    }
    await automation_actions.run_automation_actions(runtime, await fire(pipeline, resume, on_other))
    assert (await client.get(f"/automations/{other['id']}")).json()["enabled"] is True


async def test_flow_run_actions_act_on_the_run_of_the_triggering_event(
    client: httpx.AsyncClient, pipeline: ServerContext, runtime: ActorRuntime
) -> None:
    async def act(action: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
        automation = await create_automation(client, action, name=action["type"])
        await automation_actions.run_automation_actions(runtime, await fire(pipeline, automation, flow_run_event(run)))
        (outcome,) = await action_runs(pipeline, automation)
        return outcome

    to_cancel = await create_flow_run(client)
    await set_state(client, to_cancel, "RUNNING")
    assert (await act({"type": "cancel-flow-run"}, to_cancel))["status"] == "SUCCEEDED"
    state = (await client.get(f"/flow_runs/{to_cancel['id']}")).json()["state"]
    assert (state["type"], state["message"]) == (
        "CANCELLING",
        f"Cancelled by Automation {await _id_named(client, 'cancel-flow-run')}",
    )
    # Announced as the API announces a state change: the run's event follows.
    await eventually(
        lambda: _stored_event(pipeline, "prefect.flow-run.Cancelling", f"prefect.flow-run.{to_cancel['id']}")
    )

    to_fail = await create_flow_run(client)
    change = {"type": "change-flow-run-state", "state": "FAILED", "name": "Gave up", "message": "too slow"}
    assert (await act(change, to_fail))["status"] == "SUCCEEDED"
    state = (await client.get(f"/flow_runs/{to_fail['id']}")).json()["state"]
    assert (state["type"], state["name"], state["message"]) == ("FAILED", "Gave up", "too slow")

    suspendable = await deployment(client)  # only runs of deployments can be suspended
    to_suspend = (await client.post(f"/deployments/{suspendable['id']}/create_flow_run", json={})).json()
    await set_state(client, to_suspend, "RUNNING")
    assert (await act({"type": "suspend-flow-run"}, to_suspend))["status"] == "SUCCEEDED"
    state = (await client.get(f"/flow_runs/{to_suspend['id']}")).json()["state"]
    assert (state["type"], state["name"], state["state_details"]["pause_reschedule"]) == ("PAUSED", "Suspended", True)
    assert (await act({"type": "resume-flow-run"}, to_suspend))["status"] == "SUCCEEDED"
    state = (await client.get(f"/flow_runs/{to_suspend['id']}")).json()["state"]
    assert (state["type"], state["name"]) == ("SCHEDULED", "Resuming")

    to_delete = await create_flow_run(client)
    assert (await act({"type": "delete-flow-run"}, to_delete))["status"] == "SUCCEEDED"
    assert (await client.get(f"/flow_runs/{to_delete['id']}")).status_code == 404

    refused = await act({"type": "resume-flow-run"}, to_fail)
    assert (refused["status"], refused["reason"]) == (
        "FAILED",
        "Failed to resume flow run: Cannot resume a flow run that is not paused.",
    )


async def _id_named(client: httpx.AsyncClient, name: str) -> str:
    found = (await client.post("/automations/filter", json={"automations": {"name": {"any_": [name]}}})).json()
    return found[0]["id"]


@pytest.mark.parametrize(
    ("action", "event", "reason"),
    [
        (
            {"type": "run-deployment", "source": "selected", "deployment_id": "00000000-0000-4000-8000-000000001234"},
            None,
            "Deployment 00000000-0000-4000-8000-000000001234 was not found",
        ),
        ({"type": "cancel-flow-run"}, None, "No event to infer the flow run from"),
        (
            {"type": "cancel-flow-run"},
            {"resource": {"prefect.resource.id": "prefect.flow-run.00000000-0000-4000-8000-000000000042"}},
            "Flow run 00000000-0000-4000-8000-000000000042 was not found",
        ),
        (
            {"type": "pause-deployment", "source": "inferred"},
            {},
            "No deployment could be inferred from the triggering event",
        ),
        (
            {"type": "send-notification", "block_document_id": "00000000-0000-4000-8000-000000000007", "body": "x"},
            None,
            "Block document 00000000-0000-4000-8000-000000000007 was not found",
        ),
    ],
    ids=["unknown-deployment", "no-event", "unknown-run", "no-deployment-in-event", "unknown-block"],
)
async def test_a_failing_action_is_recorded_with_its_reason_and_a_failed_event(
    client: httpx.AsyncClient,
    pipeline: ServerContext,
    runtime: ActorRuntime,
    action: dict[str, Any],
    event: dict[str, Any] | None,
    reason: str,
) -> None:
    automation = await create_automation(client, action, {"type": "do-nothing"})
    triggering = None
    if event is not None:
        triggering = {
            "id": str(uuid.uuid4()),
            "occurred": utcnow().isoformat(),
            "event": "test.event",
            "resource": {"prefect.resource.id": "my.thing"},
            "related": [],
            "payload": {},
            **event,
        }
    ids = await fire(pipeline, automation, triggering)

    await automation_actions.run_automation_actions(runtime, ids)

    failed, other = await action_runs(pipeline, automation)
    assert (failed["status"], failed["reason"]) == ("FAILED", reason)
    assert other["status"] == "SUCCEEDED"  # one action failing does not stop the others
    events = await action_events(pipeline)
    (failure,) = [each for each in events if each["event"] == "prefect.automation.action.failed"]
    assert failure["payload"] == {
        "action_index": 0,
        "action_type": action["type"],
        "invocation": ids[0],
        "reason": reason,
    }


async def slack_block(client: httpx.AsyncClient, url: str) -> str:
    block_type = (await client.get("/block_types/slug/slack-webhook")).json()
    schemas = (
        await client.post(
            "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
        )
    ).json()
    body = {
        "name": "team",
        "block_type_id": block_type["id"],
        "block_schema_id": schemas[0]["id"],
        "data": {"url": url},
    }
    response = await client.post("/block_documents/", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def webhook_block(client: httpx.AsyncClient, data: dict[str, Any]) -> str:
    """A document of Prefect's `Webhook` block type; the type is registered as the client registers it when the
    server does not know it yet."""
    found = await client.get("/block_types/slug/webhook")
    if found.status_code == 404:
        found = await client.post("/block_types/", json={"name": "Webhook", "slug": "webhook"})
    block_type = found.json()
    filter_body = {"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
    schemas = (await client.post("/block_schemas/filter", json=filter_body)).json()
    if not schemas:
        fields = {
            "title": "Webhook",
            "type": "object",
            "properties": {
                "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "default": "POST"},
                "url": {"type": "string", "format": "password", "writeOnly": True},
                "headers": {"type": "object"},
                "allow_private_urls": {"type": "boolean", "default": True},
                "verify": {"type": "boolean", "default": True},
            },
            "required": ["url"],
            "secret_fields": ["url", "headers.*"],
            "block_type_slug": "webhook",
            "block_schema_references": {},
        }
        created = await client.post("/block_schemas/", json={"block_type_id": block_type["id"], "fields": fields})
        schemas = [created.json()]
    body = {"name": "hook", "block_type_id": block_type["id"], "block_schema_id": schemas[0]["id"], "data": data}
    response = await client.post("/block_documents/", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_send_notification_reaches_slack_with_the_rendered_subject_and_body(
    client: httpx.AsyncClient, pipeline: ServerContext, runtime: ActorRuntime, receiver: Receiver
) -> None:
    block = await slack_block(client, receiver.url)
    run = await create_flow_run(client, name="sad-otter")
    automation = await create_automation(
        client,
        {
            "type": "send-notification",
            "block_document_id": block,
            "subject": "{{ flow_run.name }} {{ event.resource['prefect.state-name'] | lower }}",
            "body": "See {{ flow_run | ui_url }}",
        },
    )
    ids = await fire(pipeline, automation, flow_run_event(run))

    await automation_actions.run_automation_actions(runtime, ids)
    await automation_actions.run_automation_actions(runtime, ids)

    (request,) = receiver.requests
    assert request.body == (
        b'{"text":"sad-otter failed\\nSee http://baton.example.com/runs/flow-run/' + run["id"].encode() + b'"}'
    )
    (outcome,) = await action_runs(pipeline, automation)
    assert outcome["status"] == "SUCCEEDED"
    _, executed = await action_events(pipeline)
    assert executed["payload"]["status_code"] == 200
    assert {"prefect.resource.id": "prefect.block-type.slack-webhook", "prefect.resource.role": "block-type"} in (
        executed["related"]
    )


async def test_call_webhook_sends_the_rendered_payload_with_the_block_request(
    client: httpx.AsyncClient, pipeline: ServerContext, runtime: ActorRuntime, receiver: Receiver
) -> None:
    block = await webhook_block(client, {"url": receiver.url, "method": "PUT", "headers": {"X-Token": "s3cret"}})
    run = await create_flow_run(client, name="sad-otter")
    automation = await create_automation(
        client,
        {
            "type": "call-webhook",
            "block_document_id": block,
            "payload": '{"run": "{{ flow_run.name }}", "state": "{{ flow_run.state.type }}"}',
        },
    )
    await automation_actions.run_automation_actions(runtime, await fire(pipeline, automation, flow_run_event(run)))

    (request,) = receiver.requests
    assert (request.method, request.body) == ("PUT", b'{"run": "sad-otter", "state": "FAILED"}')
    assert request.headers["X-Token"] == "s3cret"
    (outcome,) = await action_runs(pipeline, automation)
    assert outcome["status"] == "SUCCEEDED"

    receiver.status = 503
    await automation_actions.run_automation_actions(runtime, await fire(pipeline, automation, flow_run_event(run)))
    failed = (await action_runs(pipeline, automation))[0]
    assert failed["status"] == "FAILED"
    assert failed["reason"] == "Webhook call failed: The webhook answered 503 Service Unavailable: receiver says no"
    assert "s3cret" not in failed["reason"] and receiver.url not in failed["reason"]


async def test_a_template_that_fails_at_run_time_fails_the_action(
    client: httpx.AsyncClient, pipeline: ServerContext, runtime: ActorRuntime, receiver: Receiver
) -> None:
    block = await webhook_block(client, {"url": receiver.url})
    automation = await create_automation(
        client, {"type": "call-webhook", "block_document_id": block, "payload": "{{ event.payload.a.b }}"}
    )
    await automation_actions.run_automation_actions(runtime, await fire(pipeline, automation))

    (outcome,) = await action_runs(pipeline, automation)
    assert outcome["status"] == "FAILED"
    assert outcome["reason"].startswith("Template rendering failed: UndefinedError(")
    assert receiver.requests == []
    failure = (await action_events(pipeline))[-1]
    assert failure["payload"]["template_source"] == "{{ event.payload.a.b }}"


async def test_a_services_process_on_redis_runs_the_actions_it_is_sent(
    client: httpx.AsyncClient, pipeline: ServerContext, database_url: str, tmp_path: Path
) -> None:
    """Redis mode: the actors declared by `make_services_broker` run the message from Redis in a worker with its
    own event loop and database pool."""
    namespace = new_namespace()
    services_settings = Settings(
        home=tmp_path, api_database_connection_url=database_url, redis_url=REDIS_URL, redis_namespace=namespace
    )
    broker = make_services_broker(services_settings)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        target = await deployment(client)
        automation = await create_automation(
            client, {"type": "run-deployment", "source": "selected", "deployment_id": target["id"]}
        )
        ids = await fire(pipeline, automation)
        broker.enqueue(messages.run_automation_actions(ids))
        broker.enqueue(messages.run_automation_actions(ids))

        async def succeeded() -> bool:
            return [run["status"] for run in await action_runs(pipeline, automation)] == ["SUCCEEDED"]

        await eventually(succeeded, within=20)
        await asyncio.sleep(0.5)  # the second message had its chance to run the action again
        assert len(await runs_of(client, target["id"])) == 1
    finally:
        await asyncio.get_running_loop().run_in_executor(None, worker.stop)
        broker.close()
        delete_namespace(namespace)

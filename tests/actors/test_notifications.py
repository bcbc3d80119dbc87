"""Notification policies end to end: a flow-run state change -> match -> delivery through a channel, received by a
webhook receiver on loopback (standing in for Slack), with retries, failure records, pausing and throttling."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

from baton.actors import notifications
from baton.actors.runtime import ActorRuntime
from baton.server.context import ServerContext
from baton.settings import Settings
from tests.pipeline import create_flow_run, eventually


@dataclass
class Receiver:
    """A webhook endpoint on loopback: records each request's JSON body and answers with `status`."""

    url: str
    status: int = 200
    bodies: list[Any] = field(default_factory=list)


class _ReceiverHandler(tornado.web.RequestHandler):
    def initialize(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def post(self) -> None:
        self.receiver.bodies.append(json.loads(self.request.body))
        self.set_status(self.receiver.status)
        self.finish("ok" if self.receiver.status < 400 else "receiver says no")

    def check_xsrf_cookie(self) -> None:
        return None


async def _serve_receiver(status: int = 200) -> AsyncIterator[Receiver]:
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    found = Receiver(url=f"http://127.0.0.1:{port}/hook", status=status)
    server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/hook", _ReceiverHandler, {"receiver": found})]))
    server.add_sockets(sockets)
    yield found
    server.stop()
    await server.close_all_connections()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async for found in _serve_receiver():
        yield found


@pytest.fixture
async def broken_receiver() -> AsyncIterator[Receiver]:
    async for found in _serve_receiver(status=503):
        yield found


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        api_database_connection_url=database_url,
        notifications_retry_backoff_seconds=0.05,
        notifications_max_attempts=3,
        # Long enough that the state changes a test makes after the first message land in its window even on a
        # loaded machine (1 s was not, in a whole-suite run); the summaries come that much later.
        notifications_throttle_seconds=3.0,
        notifications_time_zone="America/New_York",
        ui_url="http://baton.example.com",
    )


async def slack_block(client: httpx.AsyncClient, url: str) -> str:
    block_type = (await client.get("/block_types/slug/slack-webhook")).json()
    schemas = (
        await client.post(
            "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
        )
    ).json()
    response = await client.post(
        "/block_documents/",
        json={
            "name": f"team-{uuid.uuid4().hex[:8]}",
            "block_type_id": block_type["id"],
            "block_schema_id": schemas[0]["id"],
            "data": {"url": url},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def create_policy(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/flow_run_notification_policies/", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def fail(client: httpx.AsyncClient, run: dict[str, Any]) -> None:
    await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}})
    response = await client.post(
        f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "FAILED", "message": "boom"}}
    )
    assert response.json()["status"] == "ACCEPT"


async def deliveries(client: httpx.AsyncClient, **body: Any) -> list[dict[str, Any]]:
    return (await client.post("/notification_deliveries/filter", json=body)).json()


async def test_a_failed_run_with_a_matching_tag_sends_one_message(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    target = await slack_block(client, receiver.url)
    policy = await create_policy(client, state_names=["Failed"], tags=["daily-etl"], block_document_id=target)
    paused = await create_policy(client, state_names=["Failed"], block_document_id=target, is_active=False)
    other_tags = await create_policy(client, state_names=["Failed"], tags=["nightly"], block_document_id=target)
    run = await create_flow_run(client, tags=["daily-etl", "prod"])

    await fail(client, run)
    await eventually(lambda: receiver.bodies, within=15)
    await asyncio.sleep(0.3)  # anything else would arrive by now
    assert len(receiver.bodies) == 1
    text = receiver.bodies[0]["text"]
    assert f"The {run['name']} run of the events-test-flow flow entered state Failed at " in text
    assert " EST" in text or " EDT" in text
    assert "State message: boom" in text
    assert f"http://baton.example.com/runs/flow-run/{run['id']}" in text

    sent = await eventually(lambda: deliveries(client, policy_id=policy["id"], status=["SENT"]))
    assert sent[0]["flow_run_id"] == run["id"] and sent[0]["attempts"] == 1 and sent[0]["response_code"] == 200
    assert await deliveries(client, policy_id=paused["id"]) == []
    assert await deliveries(client, policy_id=other_tags["id"]) == []


async def test_a_receiver_that_fails_gets_the_retries_then_a_failed_delivery(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.status = 500
    target = await slack_block(client, receiver.url)
    policy = await create_policy(client, state_names=["Failed"], block_document_id=target)
    await fail(client, await create_flow_run(client))

    failed = await eventually(lambda: deliveries(client, policy_id=policy["id"], status=["FAILED"]), within=10)
    assert failed[0]["attempts"] == 3
    assert failed[0]["response_code"] == 500
    assert "500" in failed[0]["error"]
    assert len(receiver.bodies) == 3


async def test_a_flapping_run_is_throttled_into_one_summary(client: httpx.AsyncClient, receiver: Receiver) -> None:
    target = await slack_block(client, receiver.url)
    policy = await create_policy(client, state_names=["Failed"], block_document_id=target)
    run = await create_flow_run(client)
    await fail(client, run)
    await eventually(lambda: receiver.bodies, within=15)
    for _ in range(2):
        await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}, "force": True})
        await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "FAILED"}, "force": True})

    await eventually(lambda: len(receiver.bodies) >= 2, within=10)
    assert len(receiver.bodies) == 2
    assert "2 more state changes of" in receiver.bodies[1]["text"]
    folded = await deliveries(client, policy_id=policy["id"], status=["FOLDED"])
    assert len(folded) == 2


async def test_a_burst_reaches_every_policy_once_and_a_redelivered_batch_sends_nothing_more(
    client: httpx.AsyncClient, receiver: Receiver, pipeline: ServerContext
) -> None:
    policies = [
        await create_policy(client, state_names=["Failed"], block_document_id=await slack_block(client, receiver.url))
        for _ in range(3)
    ]
    runs = [await create_flow_run(client, tags=["burst"]) for _ in range(40)]
    for run in runs:
        await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}})
    await asyncio.gather(
        *(client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "FAILED"}}) for run in runs)
    )

    await eventually(lambda: len(receiver.bodies) >= 120, within=15)
    sent = await eventually(lambda: _all_sent(client, 120))
    assert {(d["policy_id"], d["flow_run_id"]) for d in sent} == {(p["id"], r["id"]) for p in policies for r in runs}
    assert {d["attempts"] for d in sent} == {1}

    # The queue redelivers every batch (a worker died after sending, before acknowledging): nothing goes out again.
    redelivery = ActorRuntime(pipeline.settings, pipeline.publisher.broker, pipeline.database)
    await notifications.deliver_notifications(redelivery, [d["id"] for d in sent])
    await redelivery.close()
    await asyncio.sleep(0.3)
    assert len(receiver.bodies) == 120
    assert {d["attempts"] for d in await _all_sent(client, 120)} == {1}


async def _all_sent(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    sent = await deliveries(client, status=["SENT"], limit=count + 1)
    return sent if len(sent) == count else []


async def test_one_failing_target_in_a_batch_is_retried_alone(
    client: httpx.AsyncClient, receiver: Receiver, broken_receiver: Receiver
) -> None:
    working, broken = [
        await create_policy(client, state_names=["Failed"], block_document_id=await slack_block(client, target.url))
        for target in (receiver, broken_receiver)
    ]
    await fail(client, await create_flow_run(client))

    failed = await eventually(lambda: deliveries(client, policy_id=broken["id"], status=["FAILED"]), within=10)
    assert failed[0]["attempts"] == 3 and failed[0]["response_code"] == 503
    assert len(broken_receiver.bodies) == 3
    [sent] = await deliveries(client, policy_id=working["id"])
    assert sent["status"] == "SENT" and sent["attempts"] == 1
    assert len(receiver.bodies) == 1


async def test_a_run_failing_twice_at_once_is_throttled_too(client: httpx.AsyncClient, receiver: Receiver) -> None:
    target = await slack_block(client, receiver.url)
    policy = await create_policy(client, state_names=["Failed"], block_document_id=target)
    run = await create_flow_run(client)
    await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}})
    for state in ("FAILED", "RUNNING", "FAILED"):
        await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": state}, "force": True})

    await eventually(lambda: len(receiver.bodies) >= 2, within=10)
    await asyncio.sleep(0.3)
    assert len(receiver.bodies) == 2
    assert "1 more state change of" in receiver.bodies[1]["text"]
    assert len(await deliveries(client, policy_id=policy["id"], status=["FOLDED"])) == 1
    assert len(await deliveries(client, policy_id=policy["id"], status=["SENT"])) == 1


async def test_templates_are_checked_when_saved(client: httpx.AsyncClient, receiver: Receiver) -> None:
    target = await slack_block(client, receiver.url)
    unknown = await client.post(
        "/flow_run_notification_policies/", json={"block_document_id": target, "message_template": "{flow_nme} failed"}
    )
    assert unknown.status_code == 422
    assert "{flow_nme}" in unknown.text and "{flow_name}" in unknown.text
    broken = await client.post(
        "/flow_run_notification_policies/", json={"block_document_id": target, "message_template": "oops {"}
    )
    assert broken.status_code == 422 and "not valid" in broken.text
    probing = await client.post(
        "/flow_run_notification_policies/",
        json={"block_document_id": target, "message_template": "{flow_name.__class__}"},
    )
    assert probing.status_code == 422


async def test_a_policy_needs_a_notification_block(client: httpx.AsyncClient) -> None:
    secret_type = (await client.get("/block_types/slug/secret")).json()
    schema = (
        await client.post(
            "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [secret_type["id"]]}}}
        )
    ).json()[0]
    secret = await client.post(
        "/block_documents/",
        json={
            "name": "pw",
            "block_type_id": secret_type["id"],
            "block_schema_id": schema["id"],
            "data": {"value": "x"},
        },
    )
    response = await client.post("/flow_run_notification_policies/", json={"block_document_id": secret.json()["id"]})
    assert response.status_code == 422 and "not a notification channel" in response.text
    missing = await client.post("/flow_run_notification_policies/", json={"block_document_id": str(uuid.uuid4())})
    assert missing.status_code == 422 and "does not exist" in missing.text


async def test_crud_pause_and_filter(client: httpx.AsyncClient, receiver: Receiver) -> None:
    target = await slack_block(client, receiver.url)
    policy = await create_policy(client, name="ops", state_names=["Failed", "Crashed"], block_document_id=target)
    assert (await client.get(f"/flow_run_notification_policies/{policy['id']}")).json()["state_names"] == [
        "Failed",
        "Crashed",
    ]
    paused = await client.patch(f"/flow_run_notification_policies/{policy['id']}", json={"is_active": False})
    assert paused.status_code == 204
    active = await client.post(
        "/flow_run_notification_policies/filter",
        json={"flow_run_notification_policy_filter": {"is_active": {"eq_": True}}},
    )
    assert active.json() == []
    assert (
        await client.patch(f"/flow_run_notification_policies/{policy['id']}", json={"is_active": None})
    ).status_code == 422
    assert (await client.delete(f"/flow_run_notification_policies/{policy['id']}")).status_code == 204
    assert (await client.get(f"/flow_run_notification_policies/{policy['id']}")).status_code == 404


async def test_preview_and_test_send(client: httpx.AsyncClient, receiver: Receiver) -> None:
    preview = (await client.post("/flow_run_notification_policies/preview", json={})).json()
    assert "The fuzzy-leopard run of the daily-etl flow entered state Failed at" in preview["message"]
    run = await create_flow_run(client)
    mine = await client.post(
        "/flow_run_notification_policies/preview",
        json={"flow_run_id": run["id"], "message_template": "{flow_run_name} is {flow_run_state_name}"},
    )
    assert mine.json()["message"] == f"{run['name']} is Pending"

    target = await slack_block(client, receiver.url)
    policy = await create_policy(client, block_document_id=target)
    tested = (await client.post(f"/flow_run_notification_policies/{policy['id']}/test")).json()
    assert tested == {"sent": True, "response_code": 200, "error": None}
    assert "fuzzy-leopard" in receiver.bodies[-1]["text"]

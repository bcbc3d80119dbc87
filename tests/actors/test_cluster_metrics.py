"""`/metrics` over the whole events pipeline (embedded actors, in-memory queue): what the actors do shows in the
gauges and counters. A run the late-runs job marks Late, a notification given up after its retries and an automation
action that fails are counted; the actors that ran them are counted by actor. (The gauges themselves are checked
against API actions in tests/server/api/test_metrics.py.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from baton.queue import messages
from baton.server.context import ServerContext
from baton.settings import Settings
from tests.actors.test_automation_actions import create_automation, fire
from tests.actors.test_notifications import Receiver, broken_receiver, create_policy, fail, slack_block  # noqa: F401
from tests.pipeline import create_flow_run, eventually, pipeline_settings
from tests.server.api.test_metrics import Samples, scrape, value


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return pipeline_settings(database_url, tmp_path).model_copy(
        update={
            "notifications_retry_backoff_seconds": 0.05,
            "notifications_max_attempts": 2,
            "server_metrics_cache_seconds": 0,
        }
    )


async def test_late_runs_failed_notifications_and_failed_actions_are_counted(
    client: httpx.AsyncClient,
    base_url: str,
    pipeline: ServerContext,
    broken_receiver: Receiver,  # noqa: F811 (the fixture imported above)
) -> None:
    before = await scrape(base_url)
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    await create_flow_run(client, state={"type": "SCHEDULED", "state_details": {"scheduled_time": past}})
    await create_policy(
        client, state_names=["Failed"], block_document_id=await slack_block(client, broken_receiver.url)
    )
    await fail(client, await create_flow_run(client))
    missing_deployment = {
        "type": "run-deployment",
        "source": "selected",
        "deployment_id": "00000000-0000-4000-8000-0000000000aa",
    }
    automation = await create_automation(client, missing_deployment)
    await pipeline.send_message(messages.run_automation_actions(await fire(pipeline, automation)))

    async def settled() -> Samples | None:
        samples = await scrape(base_url)
        done = (
            value(samples, "baton_flow_runs_late") == 1
            and value(samples, "baton_notification_deliveries", status="FAILED") == 1
            and value(samples, "baton_automation_action_runs", status="FAILED") == 1
        )
        return samples if done else None

    after = await eventually(settled, within=10)

    assert value(after, "baton_flow_runs", state="SCHEDULED") == 1
    assert value(after, "baton_flow_runs", state="FAILED") == 1
    assert len(broken_receiver.bodies) == 2  # both attempts reached the receiver before the delivery was given up
    for actor in ("mark_late_runs", "deliver_notifications", "run_automation_actions"):
        labels = {"actor": actor, "queue": messages.ACTOR_QUEUES[actor], "outcome": "succeeded"}
        assert value(after, "baton_actor_messages_total", **labels) > value(
            before, "baton_actor_messages_total", **labels
        ), actor
    # The in-memory queues are reported (the embedded mode's broker answers without a network).
    assert value(after, "baton_queue_up") == 1
    assert ("baton_queue_messages", frozenset({("queue", "events")})) in after

"""The status event builders: names, and when a pool's status event follows the previous one."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from baton.server.models.events.status_events import (
    FOLLOWS_WITHIN,
    deployment_status_event,
    kebab,
    work_pool_status_event,
    work_queue_status_event,
)

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
POOL = {"id": uuid.UUID(int=1), "name": "pool", "type": "docker"}


@pytest.mark.parametrize(("status", "word"), [("READY", "ready"), ("NOT_READY", "not-ready"), ("PAUSED", "paused")])
def test_statuses_are_spelled_as_event_names(status: str, word: str) -> None:
    assert kebab(status) == word
    assert work_queue_status_event({"id": 1, "name": "q"}, status, None, NOW)["event"] == f"prefect.work-queue.{word}"


@pytest.mark.parametrize(
    ("ago", "follows"),
    [(dt.timedelta(minutes=1), True), (FOLLOWS_WITHIN - dt.timedelta(seconds=1), True), (FOLLOWS_WITHIN, False)],
    ids=["recent", "just-within", "too-old"],
)
def test_a_pool_event_follows_only_a_recent_previous_one(ago: dt.timedelta, follows: bool) -> None:
    previous_id = uuid.uuid4()
    previous = {**POOL, "last_status_event_id": previous_id, "last_transitioned_status_at": NOW - ago}
    event_id = uuid.uuid4()
    event = work_pool_status_event(POOL, "NOT_READY", event_id, NOW, previous)
    assert (event["id"], event["event"]) == (str(event_id), "prefect.work-pool.not-ready")
    assert event["follows"] == (str(previous_id) if follows else None)
    assert work_pool_status_event(POOL, "READY", event_id, NOW, None)["follows"] is None


def test_a_deployment_event_carries_the_related_resources_given() -> None:
    related = [{"prefect.resource.id": "prefect.flow.1", "prefect.resource.role": "flow"}]
    event = deployment_status_event({"id": 7, "name": "d"}, "READY", related, NOW)
    assert event["event"] == "prefect.deployment.ready"
    assert event["resource"] == {"prefect.resource.id": "prefect.deployment.7", "prefect.resource.name": "d"}
    assert (event["related"], event["occurred"], event["received"]) == (related, NOW.isoformat(), NOW.isoformat())

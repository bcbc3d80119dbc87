"""`find_blockers` on facts built by hand: the decisions and messages no HTTP test reaches."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from baton.server.models.runs.blocker_rules import BlockerFacts, LimitFacts, find_blockers
from baton.server.schemas.blockers import SlotHolder

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _run(**values: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "state_type": "SCHEDULED",
        "state_name": "Late",
        "next_scheduled_start_time": NOW - dt.timedelta(minutes=5),
        **values,
    }


def _pool(**values: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "name": "pool", "is_paused": False, "concurrency_limit": None, **values}


def _queue(**values: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "name": "default",
        "is_paused": False,
        "concurrency_limit": None,
        "status": "READY",
        "last_polled": NOW,
        **values,
    }


def test_every_blocker_of_a_run_is_listed_in_order() -> None:
    pool = _pool(is_paused=True, concurrency_limit=2, last_transitioned_status_at=None)
    queue = _queue(concurrency_limit=1)
    holder = SlotHolder(type="flow_run", id=uuid.uuid4(), name="busy-run")
    facts = BlockerFacts(
        run=_run(next_scheduled_start_time=NOW + dt.timedelta(seconds=30)),
        pool=pool,
        queue=queue,
        busy_per_pool={pool["id"]: 3},
        busy_per_queue={queue["id"]: 1},
        queue_holders=[holder],
    )
    found = find_blockers(facts, NOW)
    kinds = [blocker.kind.value for blocker in found.blockers]
    assert kinds == ["not_due", "work_pool_paused", "work_pool_concurrency_full", "work_queue_concurrency_full"]
    assert found.blockers[1].message == "Work pool 'pool' is paused: no worker gets its runs."
    assert found.blockers[3].holders == [holder]
    assert found.message == "The run is Late; 4 things hold it back."


def test_a_limit_of_zero_says_no_run_can_start() -> None:
    deployment = {"id": uuid.uuid4(), "name": "never"}
    limit = LimitFacts(id=uuid.uuid4(), name="shared", limit=0, active_slots=0, is_deployment_own=False)
    facts = BlockerFacts(run=_run(), pool=_pool(), queue=_queue(), deployment=deployment, deployment_limit=limit)
    (blocker,) = find_blockers(facts, NOW).blockers
    assert blocker.kind.value == "global_concurrency_full"
    assert blocker.message == "Global limit 'shared' has a concurrency limit of 0: no run of the deployment can start."


def test_room_left_on_every_limit_holds_nothing() -> None:
    pool, queue = _pool(concurrency_limit=2), _queue(concurrency_limit=2)
    deployment = {"id": uuid.uuid4(), "name": "roomy"}
    limit = LimitFacts(id=uuid.uuid4(), name="deployment:x", limit=2, active_slots=1, is_deployment_own=True)
    facts = BlockerFacts(
        run=_run(),
        pool=pool,
        queue=queue,
        deployment=deployment,
        busy_per_pool={pool["id"]: 1},
        busy_per_queue={queue["id"]: 1},
        deployment_limit=limit,
    )
    found = find_blockers(facts, NOW)
    assert (found.is_waiting, found.is_blocked, found.blockers) == (True, False, [])


def test_a_run_without_a_state_is_not_waiting() -> None:
    found = find_blockers(BlockerFacts(run=_run(state_type=None, state_name=None)), NOW)
    assert (found.is_waiting, found.blockers, found.message) == (
        False,
        [],
        "The run is without a state: it is not waiting to start.",
    )

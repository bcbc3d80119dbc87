"""The things that hold a waiting flow run back, decided from facts already read (no database here).

A run waits while it is SCHEDULED (Scheduled, Late, AwaitingConcurrencySlot, AwaitingRetry, Resuming) or PENDING.
A PENDING run was taken by a worker and holds its slots, so nothing on the server holds it any longer. A SCHEDULED
run is held by what a worker's poll (`models/work_pools/scheduled_runs.py`) and the PENDING proposal
(`SecureFlowConcurrencySlots`) decide on: its scheduled time, a paused pool or queue, a queue no worker polls (the
queue's status, kept by the status sweep; for a deployment without a pool, which the process serving it polls, the
deployment's status), the pool's and queue's room (`pool_room`, `queue_room`) and its deployment's concurrency
limit. A paused deployment holds nothing: pausing deletes its future auto-scheduled runs, and a worker
still takes the runs left (as in Prefect).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from baton.server.models.work_pools.scheduled_runs import pool_room, queue_room
from baton.server.schemas.blockers import Blocker, BlockerKind, FlowRunBlockers, SlotHolder
from baton.server.schemas.work_pools import WorkQueueStatus
from baton.states import StateType

Row = dict[str, Any]
WAITING_STATE_TYPES = frozenset({StateType.SCHEDULED.value, StateType.PENDING.value})


@dataclass(frozen=True)
class LimitFacts:
    """The active global limit a deployment run must take a slot of before it may become PENDING."""

    id: uuid.UUID
    name: str
    limit: int
    active_slots: int
    #: The limit is the deployment's own (`deployment:<id>`), not a global limit it was linked to.
    is_deployment_own: bool
    holders: list[SlotHolder] = field(default_factory=list)


@dataclass(frozen=True)
class BlockerFacts:
    """What `find_blockers` decides on; only `run` is read for a run that is not SCHEDULED."""

    run: Row
    pool: Row | None = None
    queue: Row | None = None
    deployment: Row | None = None
    busy_per_pool: dict[Any, int] = field(default_factory=dict)
    busy_per_queue: dict[Any, int] = field(default_factory=dict)
    pool_holders: list[SlotHolder] = field(default_factory=list)
    queue_holders: list[SlotHolder] = field(default_factory=list)
    deployment_limit: LimitFacts | None = None


def format_time(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def _pool_fields(facts: BlockerFacts) -> dict[str, Any]:
    assert facts.pool is not None and facts.queue is not None
    return {
        "work_pool_id": facts.pool["id"],
        "work_pool_name": facts.pool["name"],
        "work_queue_id": facts.queue["id"],
        "work_queue_name": facts.queue["name"],
    }


def _queue_label(facts: BlockerFacts) -> str:
    assert facts.pool is not None and facts.queue is not None
    return f"work queue '{facts.queue['name']}' of work pool '{facts.pool['name']}'"


def _pool_blockers(facts: BlockerFacts) -> list[Blocker]:
    pool, queue = facts.pool, facts.queue
    assert pool is not None and queue is not None
    where = _pool_fields(facts)
    found: list[Blocker] = []
    if pool["is_paused"]:
        since = _aware(pool.get("last_transitioned_status_at"))
        when = f" since {format_time(since)}" if since else ""
        found.append(
            Blocker(
                kind=BlockerKind.WORK_POOL_PAUSED,
                message=f"Work pool '{pool['name']}' is paused{when}: no worker gets its runs.",
                since=since,
                **where,
            )
        )
    if queue["is_paused"]:
        found.append(
            Blocker(
                kind=BlockerKind.WORK_QUEUE_PAUSED,
                message=f"Work queue '{queue['name']}' of work pool '{pool['name']}' is paused: no worker gets its "
                "runs.",
                **where,
            )
        )
    elif queue["status"] == WorkQueueStatus.NOT_READY:
        last_polled = _aware(queue["last_polled"])
        if last_polled is None:
            message = f"No worker has ever polled {_queue_label(facts)}."
        else:
            message = f"No worker has polled {_queue_label(facts)} since {format_time(last_polled)}."
        found.append(Blocker(kind=BlockerKind.NO_WORKER_POLLED, message=message, last_polled=last_polled, **where))
    if pool_room(pool, facts.busy_per_pool) == 0:
        found.append(
            Blocker(
                kind=BlockerKind.WORK_POOL_CONCURRENCY_FULL,
                message=f"Work pool '{pool['name']}' runs {facts.busy_per_pool.get(pool['id'], 0)} flow runs, its "
                f"concurrency limit ({pool['concurrency_limit']}).",
                limit=pool["concurrency_limit"],
                active_slots=facts.busy_per_pool.get(pool["id"], 0),
                holders=facts.pool_holders,
                **where,
            )
        )
    if queue_room(queue, facts.busy_per_queue) == 0:
        found.append(
            Blocker(
                kind=BlockerKind.WORK_QUEUE_CONCURRENCY_FULL,
                message=f"Work queue '{queue['name']}' of work pool '{pool['name']}' runs "
                f"{facts.busy_per_queue.get(queue['id'], 0)} flow runs, its concurrency limit "
                f"({queue['concurrency_limit']}).",
                limit=queue["concurrency_limit"],
                active_slots=facts.busy_per_queue.get(queue["id"], 0),
                holders=facts.queue_holders,
                **where,
            )
        )
    return found


def _served_deployment_blocker(facts: BlockerFacts) -> Blocker | None:
    """A deployment without a work pool is run by the process serving it (`flow.serve()`), which polls the
    deployment itself: the run is held while that poll is missing (the deployment is not READY)."""
    deployment = facts.deployment
    if deployment is None or deployment["status"] == "READY":
        return None
    last_polled = _aware(deployment["last_polled"])
    label = f"deployment '{deployment['name']}'"
    if last_polled is None:
        message = f"The run has no work pool, and no process serving {label} has ever polled for its runs."
    else:
        message = (
            f"The run has no work pool, and no process serving {label} has polled for its runs since "
            f"{format_time(last_polled)}."
        )
    return Blocker(
        kind=BlockerKind.NO_WORKER_POLLED,
        message=message,
        deployment_id=deployment["id"],
        deployment_name=deployment["name"],
        last_polled=last_polled,
    )


def _limit_blocker(facts: BlockerFacts) -> Blocker | None:
    limit, deployment = facts.deployment_limit, facts.deployment
    if limit is None or deployment is None or limit.active_slots < limit.limit:
        return None
    where = {
        "deployment_id": deployment["id"],
        "deployment_name": deployment["name"],
        "concurrency_limit_id": limit.id,
        "concurrency_limit_name": limit.name,
        "limit": limit.limit,
        "active_slots": limit.active_slots,
        "holders": limit.holders,
    }
    if limit.limit == 0:
        owner = f"Deployment '{deployment['name']}'" if limit.is_deployment_own else f"Global limit '{limit.name}'"
        message = f"{owner} has a concurrency limit of 0: no run of the deployment can start."
    elif limit.is_deployment_own:
        message = (
            f"Deployment '{deployment['name']}' has {limit.active_slots} runs holding its concurrency limit "
            f"({limit.limit}); the run waits for one of them to finish."
        )
    else:
        message = (
            f"Global concurrency limit '{limit.name}' (of deployment '{deployment['name']}') has all "
            f"{limit.limit} slots taken ({limit.active_slots} active)."
        )
    kind = BlockerKind.DEPLOYMENT_CONCURRENCY_FULL if limit.is_deployment_own else BlockerKind.GLOBAL_CONCURRENCY_FULL
    return Blocker(kind=kind, message=message, **where)


def _scheduled_blockers(facts: BlockerFacts, now: dt.datetime) -> list[Blocker]:
    found: list[Blocker] = []
    due = _aware(facts.run.get("next_scheduled_start_time"))
    if due is not None and due > now:
        found.append(
            Blocker(kind=BlockerKind.NOT_DUE, message=f"The run is not due until {format_time(due)}.", since=due)
        )
    if facts.queue is None or facts.pool is None:
        served = _served_deployment_blocker(facts)
        if served is not None:
            found.append(served)
        elif facts.deployment is None:
            found.append(
                Blocker(
                    kind=BlockerKind.NO_WORK_POOL,
                    message="The run has no work pool and no deployment, so no worker takes it: only a process "
                    "running its flow by hand starts it.",
                )
            )
    else:
        found.extend(_pool_blockers(facts))
    limit = _limit_blocker(facts)
    if limit is not None:
        found.append(limit)
    return found


def _summary(facts: BlockerFacts, blockers: list[Blocker]) -> str:
    run = facts.run
    state = run.get("state_name") or run.get("state_type") or "without a state"
    if run.get("state_type") not in WAITING_STATE_TYPES:
        return f"The run is {state}: it is not waiting to start."
    if run["state_type"] == StateType.PENDING.value:
        return "The run is Pending: a worker or process has taken it, and it starts once its infrastructure is up."
    if blockers:
        count = "one thing holds" if len(blockers) == 1 else f"{len(blockers)} things hold"
        return f"The run is {state}; {count} it back."
    if facts.pool is not None:
        return f"Nothing is holding the run: it starts when a worker next polls work pool '{facts.pool['name']}'."
    assert facts.deployment is not None
    return (
        f"Nothing is holding the run: it starts when the process serving deployment '{facts.deployment['name']}' "
        "next polls."
    )


def find_blockers(facts: BlockerFacts, now: dt.datetime) -> FlowRunBlockers:
    """What holds the run back at `now`, in the order a person would fix them; empty unless it is SCHEDULED."""
    run = facts.run
    blockers = _scheduled_blockers(facts, now) if run.get("state_type") == StateType.SCHEDULED.value else []
    return FlowRunBlockers(
        flow_run_id=run["id"],
        state_type=run.get("state_type"),
        state_name=run.get("state_name"),
        is_waiting=run.get("state_type") in WAITING_STATE_TYPES,
        is_blocked=bool(blockers),
        message=_summary(facts, blockers),
        blockers=blockers,
    )

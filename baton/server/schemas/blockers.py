"""What holds a flow run back from starting (`GET /flow_runs/{id}/blockers`)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from baton.server.schemas.base import ApiModel


class BlockerKind(StrEnum):
    """One reason a waiting run does not start."""

    NOT_DUE = "not_due"
    NO_WORK_POOL = "no_work_pool"
    WORK_POOL_PAUSED = "work_pool_paused"
    WORK_QUEUE_PAUSED = "work_queue_paused"
    NO_WORKER_POLLED = "no_worker_polled"
    WORK_POOL_CONCURRENCY_FULL = "work_pool_concurrency_full"
    WORK_QUEUE_CONCURRENCY_FULL = "work_queue_concurrency_full"
    DEPLOYMENT_CONCURRENCY_FULL = "deployment_concurrency_full"
    GLOBAL_CONCURRENCY_FULL = "global_concurrency_full"


class SlotHolder(ApiModel):
    """What holds a slot of a full limit: a flow run (with its name) or, for global limits, any lease holder."""

    type: str | None = None
    id: uuid.UUID | None = None
    name: str | None = None


class Blocker(ApiModel):
    """One thing holding the run, with the objects it concerns (fields that do not apply are null)."""

    kind: BlockerKind
    message: str
    work_pool_id: uuid.UUID | None = None
    work_pool_name: str | None = None
    work_queue_id: uuid.UUID | None = None
    work_queue_name: str | None = None
    deployment_id: uuid.UUID | None = None
    deployment_name: str | None = None
    concurrency_limit_id: uuid.UUID | None = None
    concurrency_limit_name: str | None = None
    #: not_due: when the run is due; work_pool_paused: when the pool was paused.
    since: dt.datetime | None = None
    #: no_worker_polled: the queue's last poll (null: never polled).
    last_polled: dt.datetime | None = None
    #: The concurrency limit and how many of its slots are taken.
    limit: int | None = None
    active_slots: int | None = None
    holders: list[SlotHolder] = []


class FlowRunBlockers(ApiModel):
    """Why the run is not starting: `is_waiting` when it is Scheduled (Late, AwaitingConcurrencySlot, ...) or
    Pending, `blockers` what holds it (empty when nothing does), `message` a one-line summary."""

    flow_run_id: uuid.UUID
    state_type: str | None
    state_name: str | None
    is_waiting: bool
    is_blocked: bool
    message: str
    blockers: list[Blocker]

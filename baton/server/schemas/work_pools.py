"""Work pools, their queues and workers: request bodies and response shapes, as Prefect 3's."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from baton.server.schemas.base import ActionModel, ApiModel, Limit, ListingModel, Name, ObjectModel, Page
from baton.server.schemas.core import FlowRun
from baton.server.schemas.filters import FilterModel, OperatorFilterModel, WorkPoolFilter, WorkQueueFilter

# The Prefect client sends `"offset": null` for "from the start", which Prefect's server takes as 0.
Offset = Annotated[int, BeforeValidator(lambda value: 0 if value is None else value), Field(ge=0)]

# The queue every pool is created with; it cannot be deleted.
DEFAULT_QUEUE_NAME = "default"


class WorkPoolStatus(StrEnum):
    READY = "READY"
    NOT_READY = "NOT_READY"
    PAUSED = "PAUSED"


class WorkQueueStatus(StrEnum):
    READY = "READY"
    NOT_READY = "NOT_READY"
    PAUSED = "PAUSED"


class WorkerStatus(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class WorkPoolStorageConfiguration(ActionModel):
    bundle_upload_step: dict[str, Any] | None = None
    bundle_execution_step: dict[str, Any] | None = None
    default_result_storage_block_id: uuid.UUID | None = None


class WorkPoolCreate(ActionModel):
    name: Name
    description: str | None = None
    type: str = Field(default="prefect-agent", min_length=1, max_length=255)
    base_job_template: dict[str, Any] = Field(default_factory=dict)
    is_paused: bool = False
    concurrency_limit: Limit | None = None
    storage_configuration: WorkPoolStorageConfiguration = Field(default_factory=WorkPoolStorageConfiguration)


class WorkPoolUpdate(ActionModel):
    description: str | None = None
    is_paused: bool | None = None
    base_job_template: dict[str, Any] | None = None
    concurrency_limit: Limit | None = None
    storage_configuration: WorkPoolStorageConfiguration | None = None


class WorkPool(ObjectModel):
    name: str
    description: str | None = None
    type: str
    base_job_template: dict[str, Any] = Field(default_factory=dict)
    is_paused: bool = False
    concurrency_limit: int | None = None
    status: WorkPoolStatus | None = None
    default_queue_id: uuid.UUID | None = None
    storage_configuration: dict[str, Any] = Field(default_factory=dict)
    active_slots: int | None = None


class WorkQueueCreate(ActionModel):
    name: Name
    description: str | None = ""
    is_paused: bool = False
    concurrency_limit: Limit | None = None
    priority: int | None = Field(default=None, ge=1)
    filter: dict[str, Any] | None = None


class WorkQueueUpdate(ActionModel):
    name: Name | None = None
    description: str | None = None
    is_paused: bool = False
    concurrency_limit: Limit | None = None
    priority: int | None = Field(default=None, ge=1)
    last_polled: dt.datetime | None = None
    filter: dict[str, Any] | None = None


class WorkQueue(ObjectModel):
    name: str
    description: str | None = ""
    is_paused: bool = False
    concurrency_limit: int | None = None
    priority: int = 1
    work_pool_id: uuid.UUID | None = None
    filter: dict[str, Any] | None = None
    last_polled: dt.datetime | None = None
    work_pool_name: str | None = None
    status: WorkQueueStatus | None = None
    active_slots: int | None = None


class WorkQueueHealthPolicy(ApiModel):
    maximum_late_runs: int | None = 0
    maximum_seconds_since_last_polled: int | None = 60


class WorkQueueStatusDetail(ApiModel):
    healthy: bool
    late_runs_count: int = 0
    last_polled: dt.datetime | None = None
    health_check_policy: WorkQueueHealthPolicy


class Worker(ObjectModel):
    name: str
    work_pool_id: uuid.UUID
    last_heartbeat_time: dt.datetime | None = None
    heartbeat_interval_seconds: int | None = None
    status: WorkerStatus = WorkerStatus.OFFLINE


# A worker heartbeating less than daily is not being watched; the bound also keeps the sweep's date arithmetic valid.
MAX_HEARTBEAT_INTERVAL_SECONDS = 24 * 60 * 60


class WorkerHeartbeat(ActionModel):
    name: str = Field(min_length=1, max_length=255)
    heartbeat_interval_seconds: int | None = Field(default=None, ge=0, le=MAX_HEARTBEAT_INTERVAL_SECONDS)
    return_id: bool = False
    metadata: dict[str, Any] | None = None


class WorkerFlowRunResponse(ApiModel):
    work_pool_id: uuid.UUID
    work_queue_id: uuid.UUID
    flow_run: FlowRun


# --- filters and requests -------------------------------------------------------------------------------------------


class WorkerFilterStatus(FilterModel):
    any_: list[WorkerStatus] | None = None
    not_any_: list[WorkerStatus] | None = None


class WorkerFilterLastHeartbeatTime(FilterModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None


class WorkerFilter(OperatorFilterModel):
    last_heartbeat_time: WorkerFilterLastHeartbeatTime | None = None
    status: WorkerFilterStatus | None = None


class WorkPoolFilterRequest(ListingModel):
    work_pools: WorkPoolFilter | None = None
    limit: Limit | None = None
    offset: Offset = 0


class WorkQueueFilterRequest(ListingModel):
    work_queues: WorkQueueFilter | None = None
    limit: Limit | None = None
    offset: Offset = 0


class WorkerFilterRequest(ListingModel):
    workers: WorkerFilter | None = None
    limit: Limit | None = None
    offset: Offset = 0


class ScheduledFlowRunsRequest(ListingModel):
    """The body of `POST /work_pools/{name}/get_scheduled_flow_runs` (a worker's poll)."""

    work_queue_names: list[str] | None = None
    scheduled_before: dt.datetime | None = None
    scheduled_after: dt.datetime | None = None
    limit: Limit | None = None


class WorkQueueRunsRequest(ListingModel):
    """The body of the legacy `POST /work_queues/{id}/get_runs`."""

    scheduled_before: dt.datetime | None = None
    agent_id: uuid.UUID | None = None
    limit: Limit | None = None


class LegacyWorkQueueFilterRequest(ListingModel):
    """The body of `POST /work_queues/filter`."""

    work_queues: WorkQueueFilter | None = None
    work_pool_name: str | None = None
    limit: Limit | None = None
    offset: Offset = 0


# --- concurrency status -------------------------------------------------------------------------------------------

# Prefect's bounds on the runs listed per queue in a pool's concurrency status.
DEFAULT_FLOW_RUNS_PER_QUEUE = 10
MAX_FLOW_RUNS_PER_QUEUE = 200


class WorkPoolConcurrencyStatusRequest(ListingModel):
    """The body of `POST /work_pools/{name}/concurrency_status`: a page of the pool's queues, and at most
    `flow_run_limit` of the runs holding each queue's slots."""

    page: Page = 1
    limit: Limit | None = None
    flow_run_limit: int = Field(default=DEFAULT_FLOW_RUNS_PER_QUEUE, ge=0, le=MAX_FLOW_RUNS_PER_QUEUE, strict=True)


class WorkQueueConcurrencyStatusRequest(ListingModel):
    """The body of `POST /work_queues/{id}/concurrency_status`: a page of the runs holding the queue's slots."""

    page: Page = 1
    limit: Limit | None = None


class FlowRunSlotSummary(ApiModel):
    """A flow run holding a slot (Pending, Running or Cancelling)."""

    id: uuid.UUID
    name: str
    state_type: str | None = None
    state_name: str | None = None
    start_time: dt.datetime | None = None
    state_timestamp: dt.datetime | None = None
    time_in_current_state: dt.timedelta | None = None


class WorkQueueConcurrencyStatusDetail(ApiModel):
    queue_id: uuid.UUID
    queue_name: str
    active_slots: int
    concurrency_limit: int | None = None
    flow_runs: list[FlowRunSlotSummary] = Field(default_factory=list)
    flow_run_count: int | None = None


class WorkPoolConcurrencyStatus(ApiModel):
    """A pool's busy slots in all, and a page of its queues (highest priority first) with their runs."""

    active_slots: int
    concurrency_limit: int | None = None
    queues: list[WorkQueueConcurrencyStatusDetail] = Field(default_factory=list)
    count: int
    limit: int
    pages: int
    page: int


class WorkQueueConcurrencyStatus(ApiModel):
    """A queue's busy slots in all, and a page of the runs holding them."""

    active_slots: int
    concurrency_limit: int | None = None
    flow_runs: list[FlowRunSlotSummary] = Field(default_factory=list)
    count: int
    limit: int
    pages: int
    page: int

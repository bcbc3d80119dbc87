"""The objects the API returns for flows, flow runs, task runs and logs (the Prefect 3 response shapes)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import ConfigDict, Field

from baton.server.schemas.base import ApiModel, Labels, ObjectModel
from baton.server.schemas.states import State
from baton.states import StateType


class FlowRunPolicy(ApiModel):
    """How a flow run retries and pauses. Unknown keys from newer clients are kept."""

    model_config = ConfigDict(extra="allow")

    max_retries: int = 0
    retry_delay_seconds: float = 0
    retries: int | None = None
    retry_delay: float | None = None
    pause_keys: list[str] | None = Field(default_factory=list)
    resuming: bool | None = False
    retry_type: Literal["in_process", "reschedule"] | None = None


class TaskRunPolicy(ApiModel):
    """How a task run retries. Unknown keys from newer clients are kept."""

    model_config = ConfigDict(extra="allow")

    max_retries: int = 0
    retry_delay_seconds: float = 0
    retries: int | None = None
    retry_delay: float | list[float] | None = None
    retry_jitter_factor: float | None = None


class CreatedBy(ApiModel):
    id: uuid.UUID | None = None
    type: str | None = None
    display_value: str | None = None


class Flow(ObjectModel):
    name: str
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None


class RunTiming(ApiModel):
    state_id: uuid.UUID | None = None
    state_type: StateType | None = None
    state_name: str | None = None
    run_count: int = 0
    expected_start_time: dt.datetime | None = None
    next_scheduled_start_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = 0.0
    estimated_run_time: float = 0.0
    estimated_start_time_delta: float = 0.0
    state: State | None = None


class FlowRun(ObjectModel, RunTiming):
    name: str
    flow_id: uuid.UUID
    deployment_id: uuid.UUID | None = None
    deployment_version: str | None = None
    work_queue_id: uuid.UUID | None = None
    work_queue_name: str | None = None
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    empirical_policy: FlowRunPolicy = Field(default_factory=FlowRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    parent_task_run_id: uuid.UUID | None = None
    auto_scheduled: bool = False
    infrastructure_document_id: uuid.UUID | None = None
    infrastructure_pid: str | None = None
    created_by: CreatedBy | None = None
    work_pool_id: uuid.UUID | None = None
    work_pool_name: str | None = None
    job_variables: dict[str, Any] | None = None


class TaskRun(ObjectModel, RunTiming):
    name: str
    flow_run_id: uuid.UUID | None = None
    task_key: str
    dynamic_key: str
    cache_key: str | None = None
    cache_expiration: dt.datetime | None = None
    task_version: str | None = None
    empirical_policy: TaskRunPolicy = Field(default_factory=TaskRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    task_inputs: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    flow_run_run_count: int = 0


class Log(ObjectModel):
    name: str
    level: int
    message: str
    timestamp: dt.datetime
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None


class HistoryStateCount(ApiModel):
    state_type: StateType
    state_name: str
    count_runs: int
    sum_estimated_run_time: float = 0.0
    sum_estimated_lateness: float = 0.0


class HistoryInterval(ApiModel):
    interval_start: dt.datetime
    interval_end: dt.datetime
    states: list[HistoryStateCount]

"""Request and response bodies of `/deployments`: deployments, their schedules, and runs created from them (the
Prefect 3.9 field sets; an unknown field is a 422)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from pydantic import Field, field_validator, model_validator

from baton.server.schemas.actions import check_parameters_size
from baton.server.schemas.base import ActionModel, ApiModel, Labels, Limit, ListingModel, Name, ObjectModel
from baton.server.schemas.core import CreatedBy, FlowRunPolicy
from baton.server.schemas.schedules import Schedule
from baton.server.schemas.states import StateCreate

# Prefect's PREFECT_DEPLOYMENT_SCHEDULE_MAX_SCHEDULED_RUNS: the most a schedule may ask for.
MAX_SCHEDULED_RUNS_PER_SCHEDULE = 50
# How far ahead `POST /deployments/{id}/schedule` may be asked to schedule (min_time, or end_time - start_time): ten
# years is beyond any real schedule, and keeps "now + horizon" a valid date.
MAX_SCHEDULE_HORIZON = dt.timedelta(days=3653)
# The window from now in which its start_time and end_time must fall.
MAX_SCHEDULE_DISTANCE = dt.timedelta(days=36525)
# Field names of clients older than 2.7.7 that Prefect drops without complaint.
_OLD_FIELDS = ("worker_pool_queue_id", "worker_pool_name", "worker_pool_queue_name", "work_pool_queue_name")
# Fields the Prefect client sends for Prefect Cloud's deployment versioning; accepted and ignored.
_CLOUD_FIELDS = ("branch", "base", "root")


class CollisionStrategy(enum.StrEnum):
    ENQUEUE = "ENQUEUE"
    CANCEL_NEW = "CANCEL_NEW"


class ConcurrencyOptions(ApiModel):
    """What happens to a run that finds the deployment's concurrency limit full."""

    collision_strategy: CollisionStrategy = CollisionStrategy.ENQUEUE
    grace_period_seconds: int | None = Field(default=None, ge=60, le=86400)


def _check_max_scheduled_runs(value: int | None) -> int | None:
    if value is not None and value > MAX_SCHEDULED_RUNS_PER_SCHEDULE:
        raise ValueError(f"max_scheduled_runs must be less than or equal to {MAX_SCHEDULED_RUNS_PER_SCHEDULE}.")
    return value


def _without_old_fields(values: Any) -> Any:
    if isinstance(values, dict):
        return {key: value for key, value in values.items() if key not in (*_OLD_FIELDS, *_CLOUD_FIELDS)}
    return values


class DeploymentScheduleCreate(ActionModel):
    active: bool = True
    schedule: Schedule
    max_scheduled_runs: int | None = Field(default=None, gt=0)
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None
    replaces: str | None = None

    _max_runs = field_validator("max_scheduled_runs")(_check_max_scheduled_runs)


class DeploymentScheduleUpdate(ActionModel):
    active: bool | None = None
    schedule: Schedule | None = None
    max_scheduled_runs: int | None = Field(default=None, gt=0)
    parameters: dict[str, Any] | None = None
    slug: str | None = None
    replaces: str | None = None

    _max_runs = field_validator("max_scheduled_runs")(_check_max_scheduled_runs)


class DeploymentCreate(ActionModel):
    name: Name
    flow_id: uuid.UUID
    paused: bool = False
    schedules: list[DeploymentScheduleCreate] = Field(default_factory=list)
    concurrency_limit: int | None = Field(default=None, gt=0)
    concurrency_options: ConcurrencyOptions | None = None
    global_concurrency_limit_id: uuid.UUID | None = None
    enforce_parameter_schema: bool = True
    # Not sent: {} and [], which is what Prefect stores and returns (its table's defaults); null stays null.
    parameter_openapi_schema: dict[str, Any] | None = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    pull_steps: list[dict[str, Any]] | None = Field(default_factory=list)
    work_queue_name: str | None = None
    work_pool_name: str | None = None
    storage_document_id: uuid.UUID | None = None
    infrastructure_document_id: uuid.UUID | None = None
    description: str | None = None
    path: str | None = None
    version: str | None = None
    entrypoint: str | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)
    version_info: dict[str, Any] | None = None

    _old_fields = model_validator(mode="before")(_without_old_fields)
    _parameters_fit = field_validator("parameters")(check_parameters_size)

    @model_validator(mode="after")
    def _one_kind_of_limit(self) -> DeploymentCreate:
        if self.concurrency_limit and self.global_concurrency_limit_id:
            raise ValueError("A deployment cannot have both a concurrency limit and a global concurrency limit.")
        return self


class DeploymentUpdate(ActionModel):
    version: str | None = None
    description: str | None = None
    paused: bool | None = None
    schedules: list[DeploymentScheduleUpdate] | None = None
    concurrency_limit: int | None = Field(default=None, gt=0)
    concurrency_options: ConcurrencyOptions | None = None
    global_concurrency_limit_id: uuid.UUID | None = None
    parameters: dict[str, Any] | None = None
    parameter_openapi_schema: dict[str, Any] | None = None
    tags: list[str] | None = None
    work_queue_name: str | None = None
    work_pool_name: str | None = None
    path: str | None = None
    job_variables: dict[str, Any] | None = None
    pull_steps: list[dict[str, Any]] | None = None
    entrypoint: str | None = None
    storage_document_id: uuid.UUID | None = None
    infrastructure_document_id: uuid.UUID | None = None
    enforce_parameter_schema: bool | None = None
    version_info: dict[str, Any] | None = None

    _old_fields = model_validator(mode="before")(_without_old_fields)

    @field_validator("parameters")
    @classmethod
    def _parameters_fit(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_parameters_size(value)


class DeploymentFlowRunCreate(ActionModel):
    """Body of `POST /deployments/{id}/create_flow_run`."""

    state: StateCreate | None = None
    name: str | None = Field(default=None, max_length=255)
    parameters: dict[str, Any] = Field(default_factory=dict)
    enforce_parameter_schema: bool | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    infrastructure_document_id: uuid.UUID | None = None
    empirical_policy: FlowRunPolicy = Field(default_factory=FlowRunPolicy)
    tags: list[str] = Field(default_factory=list)
    idempotency_key: str | None = Field(default=None, max_length=255)
    labels: Labels | None = None
    parent_task_run_id: uuid.UUID | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] | None = None

    _parameters_fit = field_validator("parameters")(check_parameters_size)


class ScheduledFlowRunsRequest(ListingModel):
    """Body of `POST /deployments/get_scheduled_flow_runs` (what `flow.serve()` polls)."""

    deployment_ids: list[uuid.UUID]
    scheduled_before: dt.datetime | None = None
    limit: Limit | None = None


class ScheduleRunsRequest(ListingModel):
    """Body of `POST /deployments/{id}/schedule`: insert the deployment's upcoming runs now, with these bounds
    in place of the scheduler's settings."""

    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    min_time: dt.timedelta | None = None
    min_runs: int | None = Field(default=None, ge=0, le=MAX_SCHEDULED_RUNS_PER_SCHEDULE * 100)
    max_runs: int | None = Field(default=None, ge=1, le=MAX_SCHEDULED_RUNS_PER_SCHEDULE * 100)

    @field_validator("min_time")
    @classmethod
    def _check_min_time(cls, value: dt.timedelta | None) -> dt.timedelta | None:
        if value is not None and not dt.timedelta(0) <= value <= MAX_SCHEDULE_HORIZON:
            raise ValueError(f"min_time must be between 0 and {MAX_SCHEDULE_HORIZON.days} days")
        return value

    @field_validator("start_time", "end_time")
    @classmethod
    def _check_time(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None:
            now = dt.datetime.now(dt.UTC)
            aware = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
            if not now - MAX_SCHEDULE_DISTANCE <= aware <= now + MAX_SCHEDULE_DISTANCE:
                raise ValueError(f"must be within {MAX_SCHEDULE_DISTANCE.days // 365} years of now")
        return value

    @model_validator(mode="after")
    def _check_range(self) -> ScheduleRunsRequest:
        if self.start_time is not None and self.end_time is not None:
            start, end = (t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t for t in (self.start_time, self.end_time))
            if end - start > MAX_SCHEDULE_HORIZON:
                raise ValueError(f"end_time may be at most {MAX_SCHEDULE_HORIZON.days} days after start_time")
        return self


class DeploymentSchedule(ObjectModel):
    deployment_id: uuid.UUID
    schedule: dict[str, Any]
    active: bool = True
    max_scheduled_runs: int | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None


class Deployment(ObjectModel):
    """A deployment as the API returns it (Prefect's DeploymentResponse)."""

    name: str
    version: str | None = None
    version_info: dict[str, Any] | None = None
    description: str | None = None
    flow_id: uuid.UUID
    paused: bool = False
    schedules: list[DeploymentSchedule] = Field(default_factory=list)
    concurrency_limit: int | None = None
    global_concurrency_limit: dict[str, Any] | None = None
    concurrency_options: ConcurrencyOptions | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    work_queue_name: str | None = None
    work_queue_id: uuid.UUID | None = None
    last_polled: dt.datetime | None = None
    parameter_openapi_schema: dict[str, Any] | None = None
    path: str | None = None
    pull_steps: list[dict[str, Any]] | None = None
    entrypoint: str | None = None
    storage_document_id: uuid.UUID | None = None
    infrastructure_document_id: uuid.UUID | None = None
    created_by: CreatedBy | None = None
    updated_by: CreatedBy | None = None
    work_pool_name: str | None = None
    status: str | None = None
    enforce_parameter_schema: bool = True

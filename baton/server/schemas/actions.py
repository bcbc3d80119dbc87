"""Request bodies that create or change flows, flow runs, task runs and logs. Unknown fields are a 422."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field, RootModel, field_validator

from baton.server.schemas.base import ActionModel, Labels, ListingModel, Name
from baton.server.schemas.core import FlowRunPolicy, TaskRunPolicy
from baton.server.schemas.states import StateCreate

# Prefect caps run parameters at 512 KiB once serialised; larger payloads belong in result storage.
MAX_PARAMETERS_BYTES = 512 * 1024


class FlowCreate(ActionModel):
    name: Name
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None


class FlowUpdate(ActionModel):
    tags: list[str] | None = None


class FlowRunCreate(ActionModel):
    flow_id: uuid.UUID
    name: str | None = Field(default=None, max_length=255)
    state: StateCreate | None = None
    deployment_id: uuid.UUID | None = None
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    parent_task_run_id: uuid.UUID | None = None
    infrastructure_document_id: uuid.UUID | None = None
    empirical_policy: FlowRunPolicy = Field(default_factory=FlowRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    idempotency_key: str | None = Field(default=None, max_length=255)
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] | None = None

    @field_validator("parameters")
    @classmethod
    def _parameters_fit(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_parameters_size(value)


class FlowRunUpdate(ActionModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    flow_version: str | None = None
    parameters: dict[str, Any] | None = None
    empirical_policy: FlowRunPolicy | None = None
    tags: list[str] | None = None
    infrastructure_pid: str | None = None
    job_variables: dict[str, Any] | None = None

    @field_validator("parameters")
    @classmethod
    def _parameters_fit(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_parameters_size(value)


class LabelsUpdate(RootModel[Labels]):
    """Labels to merge into an object's labels (`PATCH .../labels`)."""


class TaskRunCreate(ActionModel):
    id: uuid.UUID | None = None
    name: str | None = Field(default=None, max_length=255)
    flow_run_id: uuid.UUID | None = None
    task_key: str = Field(min_length=1, max_length=255)
    dynamic_key: str = Field(max_length=255)
    cache_key: str | None = Field(default=None, max_length=2000)
    cache_expiration: dt.datetime | None = None
    task_version: str | None = None
    empirical_policy: TaskRunPolicy = Field(default_factory=TaskRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: Labels | None = None
    task_inputs: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    state: StateCreate | None = None


class TaskRunUpdate(ActionModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)


class LogCreate(ActionModel):
    name: str = Field(max_length=255)
    level: int = Field(ge=0, le=100)
    message: str
    timestamp: dt.datetime
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None


class FlowRunInputCreate(ActionModel):
    key: str = Field(min_length=1, max_length=255)
    value: str
    sender: str | None = None


class FlowRunInputFilter(ListingModel):
    prefix: str
    limit: int = Field(default=1, ge=1, le=200)
    exclude_keys: list[str] = Field(default_factory=list)


class LogBatch(RootModel[list[LogCreate]]):
    """The body of `POST /logs/`: an array of log lines."""


def check_parameters_size(parameters: dict[str, Any]) -> dict[str, Any]:
    """`parameters`, if its JSON fits in MAX_PARAMETERS_BYTES; raises ValueError naming the size otherwise."""
    import orjson

    try:
        size = len(orjson.dumps(parameters))
    except TypeError as exc:
        raise ValueError(f"Parameters must be JSON: {exc}") from exc
    if size > MAX_PARAMETERS_BYTES:
        raise ValueError(f"Parameters are {size} bytes of JSON; the limit is {MAX_PARAMETERS_BYTES} bytes.")
    return parameters

"""Filter bodies of the `/filter`, `/count`, `/paginate` and `/history` endpoints, field for field as Prefect's.

Each model only describes the request; `baton.server.models.filters.core` turns it into SQL. Every model forbids unknown
keys, so a misspelt filter is a 422 rather than a silently ignored one. An operator key left out (None) does not
filter; an empty `any_` list matches nothing, an empty `not_any_` or `all_` list matches everything (as in Prefect).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StateTypeName = Literal[
    "SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING"
]
# A text search query is short; Prefect refuses longer ones too.
MAX_TEXT_QUERY_LENGTH = 200


class FilterModel(BaseModel):
    """A filter on one field (or a group of fields): unknown keys are refused."""

    model_config = ConfigDict(defer_build=True, extra="forbid")


class OperatorFilterModel(FilterModel):
    """A group whose criteria are combined with `operator` (all of them by default)."""

    operator: Literal["and_", "or_"] = "and_"


# --- shared field shapes --------------------------------------------------------------------------------------------


class IdAny(FilterModel):
    any_: list[uuid.UUID] | None = None


class IdAnyNotAny(FilterModel):
    any_: list[uuid.UUID] | None = None
    not_any_: list[uuid.UUID] | None = None


class NameAnyLike(FilterModel):
    any_: list[str] | None = None
    like_: str | None = None


class StringAny(FilterModel):
    any_: list[str] | None = None


class TimeRange(FilterModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None


class TimeRangeOrNull(TimeRange):
    is_null_: bool | None = None


class TagsAllNull(OperatorFilterModel):
    all_: list[str] | None = None
    is_null_: bool | None = None


class TagsAllAnyNull(TagsAllNull):
    any_: list[str] | None = None


# --- flows ----------------------------------------------------------------------------------------------------------


class FlowFilterDeployment(OperatorFilterModel):
    is_null_: bool | None = None


class FlowFilter(OperatorFilterModel):
    id: IdAnyNotAny | None = None
    deployment: FlowFilterDeployment | None = None
    name: NameAnyLike | None = None
    tags: TagsAllNull | None = None


# --- flow runs ------------------------------------------------------------------------------------------------------


class FlowRunFilterIdOrNull(OperatorFilterModel):
    any_: list[uuid.UUID] | None = None
    is_null_: bool | None = None


class FlowRunFilterWorkQueueName(OperatorFilterModel):
    any_: list[str] | None = None
    is_null_: bool | None = None


class FlowRunFilterStateType(FilterModel):
    any_: list[StateTypeName] | None = None
    not_any_: list[StateTypeName] | None = None


class FlowRunFilterStateName(FilterModel):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class FlowRunFilterState(OperatorFilterModel):
    type: FlowRunFilterStateType | None = None
    name: FlowRunFilterStateName | None = None


class FlowRunFilterParentFlowRunId(OperatorFilterModel):
    any_: list[uuid.UUID] | None = None


class FlowRunFilterIdempotencyKey(FilterModel):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class FlowRunFilterCreatedBy(OperatorFilterModel):
    id_: list[uuid.UUID] | None = None
    type_: list[str] | None = None
    is_null_: bool | None = None


class FlowRunFilter(OperatorFilterModel):
    id: IdAnyNotAny | None = None
    name: NameAnyLike | None = None
    tags: TagsAllAnyNull | None = None
    deployment_id: FlowRunFilterIdOrNull | None = None
    work_queue_name: FlowRunFilterWorkQueueName | None = None
    state: FlowRunFilterState | None = None
    flow_version: StringAny | None = None
    start_time: TimeRangeOrNull | None = None
    end_time: TimeRangeOrNull | None = None
    expected_start_time: TimeRange | None = None
    next_scheduled_start_time: TimeRange | None = None
    parent_flow_run_id: FlowRunFilterParentFlowRunId | None = None
    parent_task_run_id: FlowRunFilterIdOrNull | None = None
    idempotency_key: FlowRunFilterIdempotencyKey | None = None
    created_by: FlowRunFilterCreatedBy | None = None


# --- task runs ------------------------------------------------------------------------------------------------------


class TaskRunFilterStateType(FilterModel):
    any_: list[StateTypeName] | None = None


class TaskRunFilterState(OperatorFilterModel):
    type: TaskRunFilterStateType | None = None
    name: StringAny | None = None


class TaskRunFilterSubFlowRuns(FilterModel):
    exists_: bool | None = None


class TaskRunFilterFlowRunId(OperatorFilterModel):
    any_: list[uuid.UUID] | None = None
    is_null_: bool | None = None


class TaskRunFilter(OperatorFilterModel):
    id: IdAny | None = None
    name: NameAnyLike | None = None
    tags: TagsAllNull | None = None
    state: TaskRunFilterState | None = None
    start_time: TimeRangeOrNull | None = None
    end_time: TimeRangeOrNull | None = None
    expected_start_time: TimeRange | None = None
    subflow_runs: TaskRunFilterSubFlowRuns | None = None
    flow_run_id: TaskRunFilterFlowRunId | None = None


# --- deployments ----------------------------------------------------------------------------------------------------


class DeploymentOrFlowNameFilter(FilterModel):
    like_: str | None = None


class DeploymentFilterPaused(FilterModel):
    eq_: bool | None = None


class DeploymentFilterConcurrencyLimit(FilterModel):
    """Accepted for compatibility and ignored, as Prefect 3 does (the limit moved to a related object)."""

    ge_: int | None = None
    le_: int | None = None
    is_null_: bool | None = None


class DeploymentFilter(OperatorFilterModel):
    id: IdAnyNotAny | None = None
    name: NameAnyLike | None = None
    flow_or_deployment_name: DeploymentOrFlowNameFilter | None = None
    paused: DeploymentFilterPaused | None = None
    tags: TagsAllAnyNull | None = None
    work_queue_name: StringAny | None = None
    concurrency_limit: DeploymentFilterConcurrencyLimit | None = None


# --- work pools and work queues -------------------------------------------------------------------------------------


class WorkPoolFilter(OperatorFilterModel):
    id: IdAny | None = None
    name: StringAny | None = None
    type: StringAny | None = None


class WorkQueueFilterName(FilterModel):
    any_: list[str] | None = None
    startswith_: list[str] | None = None


class WorkQueueFilter(OperatorFilterModel):
    id: IdAny | None = None
    name: WorkQueueFilterName | None = None


# --- logs -----------------------------------------------------------------------------------------------------------


class LogFilterLevel(FilterModel):
    ge_: int | None = None
    le_: int | None = None


class LogFilterTaskRunId(FilterModel):
    any_: list[uuid.UUID] | None = None
    is_null_: bool | None = None


class LogFilterTextSearch(FilterModel):
    """Words match message or logger name (any of them); `-word` excludes, `+word` requires, quotes keep phrases."""

    query: str = Field(max_length=MAX_TEXT_QUERY_LENGTH)


class LogFilter(OperatorFilterModel):
    level: LogFilterLevel | None = None
    timestamp: TimeRange | None = None
    flow_run_id: IdAny | None = None
    task_run_id: LogFilterTaskRunId | None = None
    text: LogFilterTextSearch | None = None

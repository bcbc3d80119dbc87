"""Bodies and answers of the bulk endpoints (`/flows/bulk_delete`, `/flow_runs/bulk_delete`, `/bulk_set_state`,
`/deployments/bulk_delete`, `/deployments/{id}/create_flow_run/bulk`), in Prefect 3.9.1's shapes and limits; and of
Baton's own `/task_runs/bulk_delete` and `/bulk_set_state`, in the flow-run ones' shapes with `task_runs` for
`flow_runs`."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, RootModel

from baton.server.schemas.base import ApiModel, ListingModel
from baton.server.schemas.deployments import DeploymentFlowRunCreate
from baton.server.schemas.filters import DeploymentFilter, FlowFilter, FlowRunFilter, TaskRunFilter
from baton.server.schemas.states import ResponseDetails, SetStateStatus, State, StateCreate

# Prefect's BULK_OPERATION_LIMIT: a bulk delete or state change touches at most this many objects per request.
BULK_OPERATION_LIMIT = 50
# Prefect's BULK_CREATE_LIMIT: runs created from a deployment in one request; more is a 400.
BULK_CREATE_LIMIT = 100

BulkLimit = Annotated[int, Field(ge=1, le=BULK_OPERATION_LIMIT, strict=True)]


class BulkDeleteRequest(ListingModel):
    """What a bulk delete takes besides its filter: at most `limit` objects (all matching ones when no filter)."""

    limit: BulkLimit = BULK_OPERATION_LIMIT


class FlowBulkDeleteRequest(BulkDeleteRequest):
    """Body of `POST /flows/bulk_delete`."""

    flows: FlowFilter | None = None


class FlowRunBulkDeleteRequest(BulkDeleteRequest):
    """Body of `POST /flow_runs/bulk_delete`."""

    flow_runs: FlowRunFilter | None = None


class TaskRunBulkDeleteRequest(BulkDeleteRequest):
    """Body of `POST /task_runs/bulk_delete`."""

    task_runs: TaskRunFilter | None = None


class DeploymentBulkDeleteRequest(BulkDeleteRequest):
    """Body of `POST /deployments/bulk_delete`."""

    deployments: DeploymentFilter | None = None


class BulkSetStateRequest(ListingModel):
    """What a bulk state change proposes: the state, to each matching run through the orchestration rules unless
    `force`, to at most `limit` runs."""

    state: StateCreate
    force: bool = False
    limit: BulkLimit = BULK_OPERATION_LIMIT


class FlowRunBulkSetStateRequest(BulkSetStateRequest):
    """Body of `POST /flow_runs/bulk_set_state`."""

    flow_runs: FlowRunFilter | None = None


class TaskRunBulkSetStateRequest(BulkSetStateRequest):
    """Body of `POST /task_runs/bulk_set_state`."""

    task_runs: TaskRunFilter | None = None


class DeploymentFlowRunBulkCreate(RootModel[list[DeploymentFlowRunCreate]]):
    """Body of `POST /deployments/{id}/create_flow_run/bulk`: one `create_flow_run` body per run."""


class BulkDeleteResponse(ApiModel):
    """The ids of the objects deleted."""

    deleted: list[uuid.UUID] = Field(default_factory=list)


class RunOrchestrationResult(ApiModel):
    """One run's answer in a bulk state change: `set_state`'s answer (the run's id beside it in a subclass)."""

    status: SetStateStatus
    state: State | None = None
    details: ResponseDetails


class FlowRunOrchestrationResult(RunOrchestrationResult):
    flow_run_id: uuid.UUID


class TaskRunOrchestrationResult(RunOrchestrationResult):
    task_run_id: uuid.UUID


class FlowRunBulkSetStateResponse(ApiModel):
    results: list[FlowRunOrchestrationResult] = Field(default_factory=list)


class TaskRunBulkSetStateResponse(ApiModel):
    results: list[TaskRunOrchestrationResult] = Field(default_factory=list)


# The bodies of a kind of run's bulk endpoints: the delete request, the set-state request and answer.
FLOW_RUN_BULK_BODIES = (FlowRunBulkDeleteRequest, FlowRunBulkSetStateRequest, FlowRunBulkSetStateResponse)
TASK_RUN_BULK_BODIES = (TaskRunBulkDeleteRequest, TaskRunBulkSetStateRequest, TaskRunBulkSetStateResponse)


class FlowRunCreateResult(ApiModel):
    """One run's answer in a bulk create: its id when created, the reason when not."""

    flow_run_id: uuid.UUID | None = None
    status: Literal["CREATED", "FAILED"]
    error: str | None = None


class FlowRunBulkCreateResponse(ApiModel):
    results: list[FlowRunCreateResult] = Field(default_factory=list)

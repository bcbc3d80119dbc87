"""States of flow and task runs, the bodies that propose them, and the orchestration result returned for a proposal.

These mirror Prefect 3.9's wire format: the official client builds `StateCreate` bodies with
`prefect.states.to_state_create` (keys `type`, `name`, `message`, `state_details`, `data` and nothing else) and parses
`OrchestrationResult` with `prefect.client.schemas.responses.OrchestrationResult`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator

from baton.server.schemas.base import ActionModel, ApiModel, utc
from baton.states import StateType


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else utc(value)


class StateDetails(ApiModel):
    """Run references and scheduling, caching and pausing metadata of a state. Unknown keys are kept, because newer
    clients send fields this server does not know yet and expect them back."""

    model_config = ConfigDict(extra="allow")

    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None
    child_flow_run_id: uuid.UUID | None = None
    scheduled_time: dt.datetime | None = None
    cache_key: str | None = None
    cache_expiration: dt.datetime | None = None
    deferred: bool | None = False
    untrackable_result: bool = False
    pause_timeout: dt.datetime | None = None
    pause_reschedule: bool = False
    pause_key: str | None = None
    run_input_keyset: dict[str, str] | None = None
    refresh_cache: bool | None = None
    retriable: bool | None = None
    transition_id: uuid.UUID | None = None
    task_parameters_id: uuid.UUID | None = None
    traceparent: str | None = None
    deployment_concurrency_lease_id: uuid.UUID | None = None

    @field_validator("scheduled_time", "cache_expiration", "pause_timeout")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        return _aware(value)


class StateCreate(ActionModel):
    """A proposed state. The name defaults to the type's name and a SCHEDULED state's `scheduled_time` to "now"; both
    defaults are applied by the orchestration (which owns the clock), not here."""

    type: StateType
    name: str | None = None
    message: str | None = None
    data: Any = None
    state_details: StateDetails = Field(default_factory=StateDetails)


class State(ApiModel):
    """A state as stored in a run's history and returned by the API."""

    id: uuid.UUID
    type: StateType
    name: str
    timestamp: dt.datetime
    message: str | None = None
    data: Any = None
    state_details: StateDetails = Field(default_factory=StateDetails)

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return utc(value)


class SetStateRequest(ActionModel):
    """Body of `POST /flow_runs/{id}/set_state` and `POST /task_runs/{id}/set_state`."""

    state: StateCreate
    force: bool = False


class ResumeFlowRunRequest(ActionModel):
    """Body of `POST /flow_runs/{id}/resume`."""

    run_input: dict[str, Any] | None = None


class AcceptDetails(ApiModel):
    type: Literal["accept_details"] = "accept_details"


class RejectDetails(ApiModel):
    type: Literal["reject_details"] = "reject_details"
    reason: str | None = None


class WaitDetails(ApiModel):
    type: Literal["wait_details"] = "wait_details"
    delay_seconds: int
    reason: str | None = None


class AbortDetails(ApiModel):
    type: Literal["abort_details"] = "abort_details"
    reason: str | None = None


ResponseDetails = Annotated[AcceptDetails | RejectDetails | WaitDetails | AbortDetails, Field(discriminator="type")]

SetStateStatus = Literal["ACCEPT", "REJECT", "WAIT", "ABORT"]


class OrchestrationResult(ApiModel):
    """The answer to a proposed state: the resulting state (or the current one), the decision and why."""

    state: State | None = None
    status: SetStateStatus
    details: ResponseDetails

"""Flow-run notification policies (Prefect 2's shape) and the record of their deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from baton.notifications.templates import check_template
from baton.server.schemas.base import ActionModel, ApiModel, Limit, ListingModel, ObjectModel

DeliveryStatus = Literal["PENDING", "SENDING", "RETRYING", "SENT", "FAILED", "FOLDED"]


def _template(value: str | None) -> str | None:
    if value is not None:
        check_template(value)
    return value


def _names(values: list[str]) -> list[str]:
    cleaned = []
    for value in values:
        if not value.strip():
            raise ValueError("names and tags may not be empty")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


MessageTemplate = Annotated[str | None, Field(max_length=10_000), AfterValidator(_template)]
NameList = Annotated[list[Annotated[str, Field(max_length=255)]], Field(max_length=100), AfterValidator(_names)]


class NotificationPolicyCreate(ActionModel):
    name: str | None = Field(default=None, max_length=255)
    is_active: bool = True
    #: State names that trigger the policy (Failed, Crashed, Late ...); empty means every state.
    state_names: NameList = Field(default_factory=list)
    #: Runs carrying any of these tags match; empty means every run.
    tags: NameList = Field(default_factory=list)
    block_document_id: uuid.UUID
    message_template: MessageTemplate = None


class NotificationPolicyUpdate(ActionModel):
    name: str | None = Field(default=None, max_length=255)
    is_active: bool | None = None
    state_names: NameList | None = None
    tags: NameList | None = None
    block_document_id: uuid.UUID | None = None
    message_template: MessageTemplate = None


class NotificationPolicy(ObjectModel):
    name: str | None = None
    is_active: bool
    state_names: list[str]
    tags: list[str]
    block_document_id: uuid.UUID
    message_template: str | None = None


class PolicyActiveFilter(ActionModel):
    eq_: bool | None = None


class NotificationPolicyFilter(ActionModel):
    is_active: PolicyActiveFilter | None = None


class NotificationPolicyFilterRequest(ListingModel):
    flow_run_notification_policy_filter: NotificationPolicyFilter | None = None
    limit: Limit | None = None
    offset: int = Field(default=0, ge=0)


class PreviewRequest(ActionModel):
    """Render `message_template` (or the default) for `flow_run_id`, or for a sample run when none is given."""

    message_template: MessageTemplate = None
    flow_run_id: uuid.UUID | None = None


class Preview(ApiModel):
    subject: str
    message: str


class NotificationDelivery(ObjectModel):
    policy_id: uuid.UUID
    flow_run_id: uuid.UUID | None = None
    flow_run_state_id: uuid.UUID
    status: DeliveryStatus
    attempts: int
    last_attempt_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    response_code: int | None = None
    error: str | None = None


class DeliveryFilterRequest(ListingModel):
    policy_id: uuid.UUID | None = None
    flow_run_id: uuid.UUID | None = None
    status: list[DeliveryStatus] | None = None
    limit: Limit | None = None
    offset: int = Field(default=0, ge=0)


class TestResult(ApiModel):
    """The outcome of `POST /flow_run_notification_policies/{id}/test`."""

    sent: bool
    response_code: int | None = None
    error: str | None = None

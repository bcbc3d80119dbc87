"""Concurrency limits: global (v2) limits, their slot requests and leases, and the tag (v1) view onto them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from baton.server.schemas.base import ActionModel, ApiModel, Limit, ListingModel, Name, ObjectModel, Offset

# Prefect refuses leases shorter than 60 s; Baton allows 1 s so that a crashed holder's slot comes back quickly in
# tests and for short jobs. The upper bound (one day) is Prefect's.
MIN_LEASE_SECONDS = 1.0
MAX_LEASE_SECONDS = 24 * 60 * 60
# The lease Prefect's client asks for when it names no duration.
DEFAULT_LEASE_SECONDS = 300.0
# The fastest decay a rate limit may have: a million slots a second is past any real rate, and keeps the decay
# arithmetic on stored values far from overflow.
MAX_SLOT_DECAY_PER_SECOND = 1_000_000.0

SlotMode = Literal["concurrency", "rate_limit"]
HolderType = Literal["flow_run", "task_run", "deployment"]


class ConcurrencyLimitV2Create(ActionModel):
    active: bool = True
    name: Name
    limit: int = Field(ge=0)
    active_slots: int = Field(0, ge=0)
    denied_slots: int = Field(0, ge=0)
    slot_decay_per_second: float = Field(0.0, ge=0, le=MAX_SLOT_DECAY_PER_SECOND)


class ConcurrencyLimitV2Update(ActionModel):
    """Only the fields present change; a null means "leave as is"."""

    active: bool | None = None
    name: Name | None = None
    limit: Limit | None = None
    active_slots: int | None = Field(None, ge=0)
    denied_slots: int | None = Field(None, ge=0)
    slot_decay_per_second: float | None = Field(None, ge=0, le=MAX_SLOT_DECAY_PER_SECOND)


class LeaseHolder(ActionModel):
    """Who holds a lease: a flow run, a task run or a deployment."""

    type: HolderType
    id: uuid.UUID


class LimitHolder(ApiModel):
    """One lease holding slots of a limit (holder type and id are null for an anonymous lease)."""

    type: str | None = None
    id: uuid.UUID | None = None
    lease_id: uuid.UUID
    slots: int
    expires_at: dt.datetime


class ConcurrencyLimitV2(ObjectModel):
    """A global limit as stored (the answer to a create)."""

    active: bool = True
    name: str
    limit: int
    active_slots: int = 0
    denied_slots: int = 0
    slot_decay_per_second: float = 0.0
    avg_slot_occupancy_seconds: float = 2.0


class GlobalConcurrencyLimitResponse(ObjectModel):
    """A global limit as read, with its slots after decay. `denied_slots`, `avg_slot_occupancy_seconds` and `holders`
    are Baton's additions (Prefect's client ignores fields it does not know)."""

    active: bool = True
    name: str
    limit: int
    active_slots: int
    slot_decay_per_second: float = 0.0
    denied_slots: int = 0
    avg_slot_occupancy_seconds: float = 2.0
    holders: list[LimitHolder] = Field(default_factory=list)


class LimitFilterRequest(ListingModel):
    """The body of `/v2/concurrency_limits/filter` and `/concurrency_limits/filter`: a page of limits by name."""

    limit: Limit | None = None
    offset: Offset = 0


class SlotIncrement(ActionModel):
    names: list[str] = Field(min_length=1)
    slots: int = Field(gt=0)
    mode: SlotMode = "concurrency"
    # Deprecated in Prefect 3 and ignored there: limits must be created before slots are taken.
    create_if_missing: bool | None = None


class SlotDecrement(ActionModel):
    names: list[str] = Field(min_length=1)
    slots: int = Field(gt=0)
    occupancy_seconds: float | None = Field(None, gt=0)
    create_if_missing: bool | None = None


class SlotIncrementWithLease(ActionModel):
    names: list[str] = Field(min_length=1)
    slots: int = Field(gt=0)
    mode: SlotMode = "concurrency"
    lease_duration: float = Field(DEFAULT_LEASE_SECONDS, ge=MIN_LEASE_SECONDS, le=MAX_LEASE_SECONDS)
    holder: LeaseHolder | None = None


class LeaseRelease(ActionModel):
    lease_id: uuid.UUID


class LeaseRenewal(ActionModel):
    lease_duration: float = Field(DEFAULT_LEASE_SECONDS, ge=MIN_LEASE_SECONDS, le=MAX_LEASE_SECONDS)


class MinimalConcurrencyLimit(ApiModel):
    id: uuid.UUID
    name: str
    limit: int


class ConcurrencyLimitWithLease(ApiModel):
    lease_id: uuid.UUID
    limits: list[MinimalConcurrencyLimit]


# --- tag (v1) limits: a view of the global limits named `tag:<tag>` --------------------------------------------------


class TagLimitCreate(ActionModel):
    tag: str = Field(min_length=1, max_length=251)
    concurrency_limit: int = Field(ge=0)


class TagLimit(ObjectModel):
    tag: str
    concurrency_limit: int
    active_slots: list[uuid.UUID] = Field(default_factory=list, description="Task runs holding a slot")


class TagSlotRequest(ActionModel):
    names: list[str]
    task_run_id: uuid.UUID


class TagLimitReset(ActionModel):
    slot_override: list[uuid.UUID] | None = None

"""The frames of Prefect 3.9's worker channel (`/work_pools/{name}/workers/connect`, version
`work_pool_worker_channel.v1`) that Baton reads, as strict as Prefect's; the frames it sends are built in
`models.work_pools.worker_channel`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CHANNEL_VERSION = "work_pool_worker_channel.v1"
HEARTBEAT_CAPABILITY = "worker_heartbeat.v1"
SNAPSHOT_CAPABILITY = "work_pool_snapshot.v1"
# Prefect's optional teardown delivery; Baton does not offer it, so a worker asking for it is told it is rejected.
CLEANUP_DELIVERY_CAPABILITY = "cleanup_delivery.v1"
REQUIRED_CAPABILITIES = (HEARTBEAT_CAPABILITY, SNAPSHOT_CAPABILITY)


class ChannelModel(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")


class WorkerHelloPayload(ChannelModel):
    consumer_id: uuid.UUID
    worker_name: str = Field(min_length=1)
    worker_type: str = Field(min_length=1)
    heartbeat_interval_seconds: int = Field(gt=0)
    supported_channel_versions: list[str] = Field(min_length=1)
    requested_capabilities: list[str] = Field(min_length=1)
    work_queue_names: list[str] = Field(default_factory=list)
    handled_cleanup_kinds: list[str] = Field(default_factory=list)
    max_cleanup_concurrency: int = Field(default=0, ge=0)
    create_pool_if_not_found: bool = False
    default_base_job_template: dict[str, Any] = Field(default_factory=dict)
    worker_metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _requires_the_required_capabilities(self) -> WorkerHelloPayload:
        missing = sorted(set(REQUIRED_CAPABILITIES) - set(self.requested_capabilities))
        if missing:
            raise ValueError(f"Missing required channel capabilities: {missing}")
        return self


class WorkerHelloFrame(ChannelModel):
    type: Literal["worker.hello.v1"]
    id: uuid.UUID
    sent_at: dt.datetime
    payload: WorkerHelloPayload


class WorkerHeartbeatPayload(ChannelModel):
    consumer_id: uuid.UUID
    worker_name: str = Field(min_length=1)
    heartbeat_interval_seconds: int = Field(gt=0)


class WorkerHeartbeatFrame(ChannelModel):
    type: Literal["worker.heartbeat.v1"]
    id: uuid.UUID
    sent_at: dt.datetime
    payload: WorkerHeartbeatPayload

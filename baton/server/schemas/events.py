"""Events as the Prefect 3 events API defines them: what clients send and what the server stores and returns.

The limits follow the Prefect server's defaults, so a client that works against Prefect works against Baton.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field, field_validator, model_validator

from baton.server.schemas.base import ApiModel, utc

# Prefect server defaults (PREFECT_SERVER_EVENTS_MAXIMUM_*).
MAX_EVENT_BYTES = 1_500_000
MAX_EVENT_NAME_LENGTH = 1024
MAX_LABELS_PER_RESOURCE = 500
MAX_RELATED_RESOURCES = 100

RESOURCE_ID = "prefect.resource.id"
RESOURCE_ROLE = "prefect.resource.role"
RESOURCE_NAME = "prefect.resource.name"
# A run's resource id is this prefix and the run's id.
FLOW_RUN_RESOURCE_PREFIX = "prefect.flow-run."
TASK_RUN_RESOURCE_PREFIX = "prefect.task-run."


def _check_labels(labels: dict[str, str], what: str) -> dict[str, str]:
    if not labels.get(RESOURCE_ID):
        raise ValueError(f"{what} must have a non-empty '{RESOURCE_ID}' label")
    if len(labels) > MAX_LABELS_PER_RESOURCE:
        raise ValueError(f"{what} has {len(labels)} labels; at most {MAX_LABELS_PER_RESOURCE} are allowed")
    return labels


class Event(ApiModel):
    """One event. `id` is chosen by the emitter, so that sending an event twice records it once."""

    id: uuid.UUID
    occurred: dt.datetime
    event: str = Field(min_length=1, max_length=MAX_EVENT_NAME_LENGTH)
    resource: dict[str, str]
    related: list[dict[str, str]] = Field(default_factory=list, max_length=MAX_RELATED_RESOURCES)
    payload: dict[str, Any] = Field(default_factory=dict)
    follows: uuid.UUID | None = None
    received: dt.datetime | None = None

    @field_validator("occurred", "received")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else utc(value)

    @field_validator("resource")
    @classmethod
    def _resource(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_labels(value, "The event's resource")

    @field_validator("related")
    @classmethod
    def _related(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        for position, labels in enumerate(value):
            _check_labels(labels, f"Related resource {position}")
            if not labels.get(RESOURCE_ROLE):
                raise ValueError(f"Related resource {position} must have a non-empty '{RESOURCE_ROLE}' label")
        return value

    @model_validator(mode="after")
    def _not_self_following(self) -> Event:
        if self.follows == self.id:
            raise ValueError("An event cannot follow itself")
        return self


class ReceivedEvent(Event):
    """An event as the server stored it."""

    received: dt.datetime  # type: ignore[assignment]

"""Bodies of the `/filter`, `/count`, `/paginate` and `/history` endpoints: unknown top-level keys are ignored and a
null is the default, as in Prefect (`ListingModel`); the filters inside refuse unknown keys."""

from __future__ import annotations

import datetime as dt

from pydantic import AliasChoices, Field, model_validator

from baton.errors import ValidationFailed
from baton.server.schemas.base import Limit, ListingModel, Offset, Page
from baton.server.schemas.filters import (
    DeploymentFilter,
    FlowFilter,
    FlowRunFilter,
    LogFilter,
    TaskRunFilter,
    WorkPoolFilter,
    WorkQueueFilter,
)
from baton.server.schemas.sorting import DeploymentSort, FlowRunSort, FlowSort, LogSort, TaskRunSort

# SQLite stops telling sub-second buckets apart reliably; Prefect refuses them for the same reason.
MIN_HISTORY_INTERVAL_SECONDS = 1.0
# One bar per bucket in the UI's charts; more is unreadable and costs a large response.
MAX_HISTORY_BUCKETS = 500
# The latest history end: leaves room for a last bucket of the longest interval before datetime's year 9999.
LATEST_HISTORY_END = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
# The longest history bucket: ten years, more than any chart needs, and small enough that every bucket's edges are
# valid dates.
MAX_HISTORY_INTERVAL_SECONDS = 3653 * 24 * 3600.0


def effective_limit(requested: int | None, maximum: int) -> int:
    """The page size to use: `maximum` when none was asked for; raises ValidationFailed when above `maximum`."""
    if requested is None:
        return maximum
    if requested > maximum:
        message = f"limit must be less than or equal to {maximum}"
        raise ValidationFailed(
            message, [{"loc": ["body", "limit"], "msg": message, "type": "less_than_equal", "input": requested}]
        )
    return requested


class FlowFilterSet(ListingModel):
    """The filters that select flows (and, through them, other objects)."""

    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    deployments: DeploymentFilter | None = None
    work_pools: WorkPoolFilter | None = None


class RunFilterSet(FlowFilterSet):
    """The filters that select flow runs or task runs: those of flows plus work queues."""

    work_pool_queues: WorkQueueFilter | None = None


class FlowFilterRequest(FlowFilterSet):
    sort: FlowSort = FlowSort.NAME_ASC
    limit: Limit | None = None
    offset: Offset = 0


class FlowPaginateRequest(FlowFilterSet):
    sort: FlowSort = FlowSort.NAME_ASC
    limit: Limit | None = None
    page: Page = 1


class FlowRunFilterRequest(RunFilterSet):
    sort: FlowRunSort = FlowRunSort.ID_DESC
    limit: Limit | None = None
    offset: Offset = 0


class FlowRunPaginateRequest(RunFilterSet):
    sort: FlowRunSort = FlowRunSort.ID_DESC
    limit: Limit | None = None
    page: Page = 1


class TaskRunFilterRequest(RunFilterSet):
    sort: TaskRunSort = TaskRunSort.ID_DESC
    limit: Limit | None = None
    offset: Offset = 0


class TaskRunPaginateRequest(RunFilterSet):
    sort: TaskRunSort = TaskRunSort.ID_DESC
    limit: Limit | None = None
    page: Page = 1


class DeploymentFilterRequest(RunFilterSet):
    sort: DeploymentSort = DeploymentSort.NAME_ASC
    limit: Limit | None = None
    offset: Offset = 0


class DeploymentPaginateRequest(DeploymentFilterRequest):
    offset: Offset = Field(0, exclude=True)
    page: Page = 1


class LogFilterRequest(ListingModel):
    logs: LogFilter | None = None
    sort: LogSort = LogSort.TIMESTAMP_ASC
    limit: Limit | None = None
    offset: Offset = 0


class FlowRunHistoryRequest(RunFilterSet):
    """`/flow_runs/history` and `/task_runs/history`: the interval as `history_interval_seconds` (Prefect 3) or
    `history_interval` (seconds or an ISO 8601 duration); the work queue filter as `work_queues` or
    `work_pool_queues`. Refuses an interval under a second, an end not after the start, and over 500 buckets."""

    history_start: dt.datetime
    history_end: dt.datetime
    history_interval_seconds: float | None = None
    history_interval: dt.timedelta | None = None
    work_pool_queues: WorkQueueFilter | None = Field(
        None, validation_alias=AliasChoices("work_queues", "work_pool_queues")
    )

    @property
    def interval_seconds(self) -> float:
        """The bucket size in seconds, whichever way the request gave it."""
        if self.history_interval_seconds is not None:
            return self.history_interval_seconds
        assert self.history_interval is not None  # guaranteed by the validator
        return self.history_interval.total_seconds()

    @property
    def bucket_count(self) -> int:
        """How many buckets cover the range (the last one may extend past `history_end`)."""
        return bucket_count(self.history_start, self.history_end, self.interval_seconds)

    @model_validator(mode="after")
    def _check_range(self) -> FlowRunHistoryRequest:
        if self.history_interval_seconds is None and self.history_interval is None:
            raise ValueError("history_interval_seconds is required (the size of each bucket, in seconds)")
        if self.history_interval_seconds is not None and self.history_interval is not None:
            raise ValueError("give either history_interval_seconds or history_interval, not both")
        if self.interval_seconds < MIN_HISTORY_INTERVAL_SECONDS:
            raise ValueError("History interval must not be less than 1 second.")
        if self.interval_seconds > MAX_HISTORY_INTERVAL_SECONDS:
            field = "history_interval_seconds" if self.history_interval_seconds is not None else "history_interval"
            raise ValueError(f"{field} must not be more than {MAX_HISTORY_INTERVAL_SECONDS:.0f} seconds (ten years).")
        if max(_as_utc(self.history_start), _as_utc(self.history_end)) > LATEST_HISTORY_END:
            raise ValueError(f"history_start and history_end must be before {LATEST_HISTORY_END.year}.")
        if _as_utc(self.history_end) <= _as_utc(self.history_start):
            raise ValueError("history_end must be after history_start")
        count = self.bucket_count
        if count > MAX_HISTORY_BUCKETS:
            raise ValueError(
                f"The history range holds {count} intervals of {self.interval_seconds:g} seconds; at most "
                f"{MAX_HISTORY_BUCKETS} are allowed. Use a longer interval or a shorter range."
            )
        return self


def bucket_count(start: dt.datetime, end: dt.datetime, interval_seconds: float) -> int:
    """The number of `interval_seconds` buckets from `start` needed to reach `end` (0 when end is not after start)."""
    elapsed_us = (_as_utc(end) - _as_utc(start)) // dt.timedelta(microseconds=1)
    interval_us = max(round(interval_seconds * 1_000_000), 1)
    return max(-(-elapsed_us // interval_us), 0)


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value

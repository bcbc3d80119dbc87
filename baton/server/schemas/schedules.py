"""Deployment schedules in Prefect 3's three JSON shapes: `{interval, anchor_date, timezone}`, `{cron, timezone,
day_or}` and `{rrule, timezone}`. Each refuses what it could never run (a bad cron or rrule string, a non-positive
interval, an unknown time zone) with a message a person can act on; the API answers those with a 422."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

# Prefect's limit on an rrule string: about a year of RDATEs.
MAX_RRULE_LENGTH = 6500


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(value: str) -> str:
    """`value` if it names an IANA time zone; raises ValueError (Prefect's wording) otherwise."""
    if value not in _time_zones():
        raise ValueError(f'Invalid timezone: "{value}" (specify in IANA tzdata format, for example, America/New_York)')
    return value


class ScheduleModel(BaseModel):
    """A schedule: unknown keys are refused (a typo must not silently make another schedule), intervals are
    written as float seconds as Prefect writes them."""

    model_config = ConfigDict(defer_build=True, extra="forbid", ser_json_timedelta="float")


class IntervalSchedule(ScheduleModel):
    """Every `interval` from `anchor_date`. Intervals of whole days follow the wall clock of `timezone` (a daily 9am
    run stays at 9am across daylight saving); shorter ones are exact elapsed time."""

    interval: dt.timedelta
    anchor_date: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    timezone: str | None = None

    @field_validator("interval")
    @classmethod
    def _positive(cls, value: dt.timedelta) -> dt.timedelta:
        if value <= dt.timedelta(0):
            raise ValueError("The interval must be a positive number of seconds.")
        return value

    @model_validator(mode="after")
    def _localise(self) -> IntervalSchedule:
        if self.timezone is None:
            # Prefect infers the zone from the anchor; a bare UTC offset ("-04:00") is not a zone, so that means UTC.
            key = getattr(self.anchor_date.tzinfo, "key", None)
            self.timezone = key if key in _time_zones() else "UTC"
        else:
            check_time_zone(self.timezone)
        if self.anchor_date.tzinfo is None:
            self.anchor_date = self.anchor_date.replace(tzinfo=zoneinfo.ZoneInfo(self.timezone))
        return self


class CronSchedule(ScheduleModel):
    """The times a cron expression names, on the wall clock of `timezone` (UTC when None). `day_or` joins
    day-of-month and day-of-week with OR (cron's rule) or, when false, with AND."""

    cron: str
    timezone: str | None = None
    day_or: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f'Invalid cron string: "{value}"')
        if any(part.casefold() in ("r", "h") for part in value.split()):
            raise ValueError(f'Random and Hashed expressions are unsupported, received: "{value}"')
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str | None) -> str | None:
        # No zone stays None, as Prefect stores and returns it; the scheduler reads None as UTC.
        return None if value is None else check_time_zone(value)


class RRuleSchedule(ScheduleModel):
    """The occurrences of an iCalendar (RFC 5545) recurrence rule, read by python-dateutil in `timezone`."""

    rrule: str
    timezone: str | None = "UTC"

    @field_validator("rrule")
    @classmethod
    def _valid_rrule(cls, value: str) -> str:
        import dateutil.rrule

        if len(value) > MAX_RRULE_LENGTH:
            raise ValueError(f'Invalid RRule string "{value[:40]}..."; the longest allowed is {MAX_RRULE_LENGTH}')
        try:
            dateutil.rrule.rrulestr(value, cache=False)
        except (ValueError, TypeError) as exc:
            raise ValueError(f'Invalid RRule string "{value}": {exc}') from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str | None) -> str | None:
        # A zone left out is UTC; an explicit null stays None, as in Prefect; the scheduler reads None as UTC.
        return None if value is None else check_time_zone(value)


def _schedule_kind(value: Any) -> str | None:
    """Which shape a schedule is, from the key that only that shape has."""
    if isinstance(value, dict):
        return next((key for key in ("interval", "cron", "rrule") if key in value), None)
    kinds: dict[type, str] = {IntervalSchedule: "interval", CronSchedule: "cron", RRuleSchedule: "rrule"}
    return kinds.get(type(value))


Schedule = Annotated[
    Annotated[IntervalSchedule, Tag("interval")]
    | Annotated[CronSchedule, Tag("cron")]
    | Annotated[RRuleSchedule, Tag("rrule")],
    Discriminator(
        _schedule_kind,
        custom_error_type="invalid_schedule",
        custom_error_message="A schedule needs one of the keys 'interval', 'cron' or 'rrule'.",
    ),
]

"""Deployment schedules in words for the UI: "every 1 minute", "cron 0 9 * * * (America/New_York)"."""

from __future__ import annotations

from typing import Any

# Units an interval is said in, largest first; an interval is said in the largest unit that divides it.
_UNITS = (("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


def describe_interval(seconds: float) -> str:
    if seconds > 0 and float(seconds).is_integer():
        whole = int(seconds)
        for unit, size in _UNITS:
            if whole % size == 0:
                count = whole // size
                return f"every {count} {unit}{'' if count == 1 else 's'}"
    return f"every {seconds:g} seconds"


def describe_schedule(schedule: dict[str, Any] | None) -> str:
    """The schedule JSON of a deployment schedule, in words; its time zone in brackets when it is not UTC."""
    schedule = schedule or {}
    zone = schedule.get("timezone")
    where = f" ({zone})" if zone and zone != "UTC" else ""
    if "interval" in schedule:
        return describe_interval(float(schedule["interval"])) + where
    if "cron" in schedule:
        return f"cron {schedule['cron']}" + where
    if "rrule" in schedule:
        return f"rrule {schedule['rrule']}" + where
    return "unknown schedule"

"""Run times of interval, cron and rrule schedules, across daylight-saving changes in America/New_York (clocks go
forward at 02:00 on 2026-03-08 and back at 02:00 on 2026-11-01)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest

from baton.server.schedules import run_times
from baton.server.schemas.schedules import Schedule

NEW_YORK = ZoneInfo("America/New_York")
_SCHEDULE = pydantic.TypeAdapter(Schedule)


def _times(schedule: dict[str, Any], n: int, start: dt.datetime, end: dt.datetime | None = None) -> list[str]:
    """The run times as New York wall-clock ISO strings (with their offsets)."""
    return [
        moment.astimezone(NEW_YORK).isoformat()
        for moment in run_times(_SCHEDULE.validate_python(schedule), n, start, end)
    ]


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_daily_interval_keeps_the_wall_clock_across_both_changes() -> None:
    daily = {"interval": 86400, "anchor_date": "2026-01-01T09:00:00", "timezone": "America/New_York"}
    assert _times(daily, 3, _utc(2026, 3, 7)) == [
        "2026-03-07T09:00:00-05:00",
        "2026-03-08T09:00:00-04:00",
        "2026-03-09T09:00:00-04:00",
    ]
    assert _times(daily, 3, _utc(2026, 10, 31)) == [
        "2026-10-31T09:00:00-04:00",
        "2026-11-01T09:00:00-05:00",
        "2026-11-02T09:00:00-05:00",
    ]


def test_daily_interval_in_the_skipped_hour_runs_once_an_hour_later() -> None:
    daily = {"interval": 86400, "anchor_date": "2026-03-01T02:30:00", "timezone": "America/New_York"}
    assert _times(daily, 3, _utc(2026, 3, 7, 12)) == [
        "2026-03-08T03:30:00-04:00",
        "2026-03-09T02:30:00-04:00",
        "2026-03-10T02:30:00-04:00",
    ]


def test_hourly_interval_is_elapsed_time_neither_skipping_nor_doubling() -> None:
    hourly = {"interval": 3600, "anchor_date": "2026-01-01T00:00:00", "timezone": "America/New_York"}
    # Spring: 01:00 EST is followed by 03:00 EDT, one real hour later.
    spring = run_times(_SCHEDULE.validate_python(hourly), 4, _utc(2026, 3, 8, 5))
    assert [m.astimezone(NEW_YORK).strftime("%H:%M%z") for m in spring] == [
        "00:00-0500",
        "01:00-0500",
        "03:00-0400",
        "04:00-0400",
    ]
    # Autumn: 01:00 happens twice, an hour apart; both are runs.
    autumn = run_times(_SCHEDULE.validate_python(hourly), 4, _utc(2026, 11, 1, 4))
    assert [m.astimezone(NEW_YORK).strftime("%H:%M%z") for m in autumn] == [
        "00:00-0400",
        "01:00-0400",
        "01:00-0500",
        "02:00-0500",
    ]
    for times in (spring, autumn):
        assert all(b - a == dt.timedelta(hours=1) for a, b in zip(times, times[1:], strict=False))


def test_interval_of_minutes_counts_from_the_anchor() -> None:
    every_15 = {"interval": 900, "anchor_date": "2026-01-01T00:05:00Z"}
    assert [m.isoformat() for m in run_times(_SCHEDULE.validate_python(every_15), 3, _utc(2026, 6, 1, 12, 6))] == [
        "2026-06-01T12:20:00+00:00",
        "2026-06-01T12:35:00+00:00",
        "2026-06-01T12:50:00+00:00",
    ]


def test_cron_in_the_skipped_hour_runs_once_and_in_the_repeated_hour_once() -> None:
    at_0230 = {"cron": "30 2 * * *", "timezone": "America/New_York"}
    assert _times(at_0230, 3, _utc(2026, 3, 7, 12)) == [
        "2026-03-08T03:30:00-04:00",
        "2026-03-09T02:30:00-04:00",
        "2026-03-10T02:30:00-04:00",
    ]
    at_0130 = {"cron": "30 1 * * *", "timezone": "America/New_York"}
    assert _times(at_0130, 3, _utc(2026, 10, 31, 12)) == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
        "2026-11-03T01:30:00-05:00",
    ]


def test_hourly_cron_follows_the_wall_clock() -> None:
    hourly = {"cron": "0 * * * *", "timezone": "America/New_York"}
    assert _times(hourly, 4, _utc(2026, 3, 8, 5)) == [
        "2026-03-08T00:00:00-05:00",
        "2026-03-08T01:00:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T04:00:00-04:00",
    ]
    # Prefect's rule: the first 01:00 fires, the repeated one does not; 02:00 comes two hours later.
    assert _times(hourly, 3, _utc(2026, 11, 1, 4, 30)) == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T02:00:00-05:00",
        "2026-11-01T03:00:00-05:00",
    ]


def test_a_schedule_without_a_zone_runs_in_utc() -> None:
    # The zone reads back as sent (None), as in Prefect; the run times are those of UTC.
    for schedule in ({"cron": "0 9 * * *"}, {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0", "timezone": None}):
        times = run_times(_SCHEDULE.validate_python(schedule), 2, _utc(2026, 7, 1, 10))
        assert times == [_utc(2026, 7, 2, 9), _utc(2026, 7, 3, 9)], schedule


def test_cron_day_or_and_end_bound() -> None:
    # The 13th that is also a Friday (day_or=False); 2026 has them in February, March and November.
    friday_13 = {"cron": "0 12 13 * 5", "timezone": "UTC", "day_or": False}
    times = run_times(_SCHEDULE.validate_python(friday_13), 5, _utc(2026, 1, 1), _utc(2026, 12, 31))
    assert [m.date().isoformat() for m in times] == ["2026-02-13", "2026-03-13", "2026-11-13"]
    start_is_a_run = run_times(_SCHEDULE.validate_python({"cron": "0 * * * *"}), 1, _utc(2026, 5, 1, 10))
    assert start_is_a_run == [_utc(2026, 5, 1, 10)]


def test_rrule_keeps_local_time_and_honours_its_own_start() -> None:
    mornings = {"rrule": "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0;BYSECOND=0", "timezone": "America/New_York"}
    assert _times(mornings, 3, _utc(2026, 3, 4, 15)) == [
        "2026-03-09T09:00:00-04:00",
        "2026-03-11T09:00:00-04:00",
        "2026-03-16T09:00:00-04:00",
    ]
    counted = {"rrule": "DTSTART:20260101T080000\nRRULE:FREQ=DAILY;COUNT=3", "timezone": "UTC"}
    assert [m.isoformat() for m in run_times(_SCHEDULE.validate_python(counted), 10, _utc(2025, 1, 1))] == [
        "2026-01-01T08:00:00+00:00",
        "2026-01-02T08:00:00+00:00",
        "2026-01-03T08:00:00+00:00",
    ]
    minutely = {"rrule": "FREQ=MINUTELY;INTERVAL=20", "timezone": "UTC"}
    assert run_times(_SCHEDULE.validate_python(minutely), 2, _utc(2026, 7, 1, 10, 1)) == [
        _utc(2026, 7, 1, 10, 20),
        _utc(2026, 7, 1, 10, 40),
    ]


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ({"cron": "not a cron"}, "Invalid cron string"),
        ({"cron": "H * * * *"}, "Invalid cron string"),
        ({"interval": 0}, "positive"),
        ({"interval": -1}, "positive"),
        ({"rrule": "FREQ=DAILY;BYHOUR=99"}, "Invalid RRule string"),
        ({"interval": 60, "timezone": "Europe/Atlantis"}, "Invalid timezone"),
        ({"cron": "* * * * *", "colour": "red"}, "colour"),
    ],
)
def test_invalid_schedules_are_refused_with_a_reason(schedule: dict[str, Any], words: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=words):
        _SCHEDULE.validate_python(schedule)


def test_defaults_match_prefect() -> None:
    interval = _SCHEDULE.validate_python({"interval": 60, "anchor_date": "2026-01-01T00:00:00-04:00"})
    assert interval.timezone == "UTC"
    assert _SCHEDULE.dump_python(interval, mode="json")["interval"] == 60.0
    # Prefect keeps a cron schedule's missing zone as None, and an rrule's explicit null too (both run in UTC).
    assert _SCHEDULE.validate_python({"cron": "0 0 * * *"}).timezone is None
    assert _SCHEDULE.validate_python({"cron": "0 0 * * *", "timezone": None}).timezone is None
    assert _SCHEDULE.validate_python({"rrule": "FREQ=DAILY"}).timezone == "UTC"
    assert _SCHEDULE.validate_python({"rrule": "FREQ=DAILY", "timezone": None}).timezone is None

"""When a schedule's runs fall: `run_times(schedule, n, start, end)` for interval, cron and rrule schedules.

Daylight saving follows Prefect's rules. Interval schedules of whole days keep the wall-clock time of their anchor in
the schedule's time zone, shorter intervals are exact elapsed time; cron walks the wall clock and takes the first of
two repeated wall times. A wall time that does not exist (02:30 on a spring-forward day) is run once, at the moment
it would have been on the old offset (03:30), so a change of clocks neither skips nor doubles a run.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from baton.server.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule

AnySchedule = IntervalSchedule | CronSchedule | RRuleSchedule

# Candidates a schedule may examine per call (Prefect's MAX_ITERATIONS), so an expression that rarely matches
# cannot keep the scheduler busy.
MAX_CANDIDATES = 1000
# The largest jump of a clock change anywhere (Antarctica/Troll moves two hours); cron candidates are read this far
# past the last run needed, since a wall time in a gap runs later than the wall times just after the gap.
MAX_CLOCK_CHANGE = dt.timedelta(hours=2)
# dateutil's implicit DTSTART when an rrule names none (Prefect's DEFAULT_RRULE_ANCHOR).
RRULE_ANCHOR = dt.datetime(2020, 1, 1)
_RRULE_PERIOD_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600}


def run_times(schedule: AnySchedule, n: int, start: dt.datetime, end: dt.datetime | None = None) -> list[dt.datetime]:
    """Up to `n` run times of `schedule` at or after `start` and not after `end`, ascending, as aware UTC."""
    if n <= 0 or (end is not None and end < start):
        return []
    start = start.astimezone(dt.UTC)
    end = end.astimezone(dt.UTC) if end is not None else None
    if isinstance(schedule, IntervalSchedule):
        return _interval_times(schedule, n, start, end)
    if isinstance(schedule, CronSchedule):
        return _cron_times(schedule, n, start, end)
    return _rrule_times(schedule, n, start, end)


def _on_wall_clock(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The UTC moment of a wall-clock time: the first of a repeated time, the old offset for a skipped one."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)


def _interval_times(
    schedule: IntervalSchedule, n: int, start: dt.datetime, end: dt.datetime | None
) -> list[dt.datetime]:
    anchor = schedule.anchor_date.astimezone(dt.UTC)
    interval = schedule.interval
    if interval.days == 0:
        # Exact elapsed time: anchor + k * interval for every integer k.
        step = interval // dt.timedelta(microseconds=1)
        elapsed = (start - anchor) // dt.timedelta(microseconds=1)
        k = -(-elapsed // step)
        times = [anchor + (k + i) * interval for i in range(n)]
    else:
        zone = ZoneInfo(schedule.timezone or "UTC")
        wall = schedule.anchor_date.astimezone(zone).replace(tzinfo=None)
        # Clock changes move a wall-clock series by at most a few hours, so the estimate is off by one at most.
        k = math.floor((start - anchor) / interval) - 1
        while _on_wall_clock(wall + k * interval, zone) < start:
            k += 1
        times = [_on_wall_clock(wall + (k + i) * interval, zone) for i in range(n)]
    return [moment for moment in times if end is None or moment <= end]


def _cron_times(schedule: CronSchedule, n: int, start: dt.datetime, end: dt.datetime | None) -> list[dt.datetime]:
    from croniter import croniter

    zone = ZoneInfo(schedule.timezone or "UTC")
    local_start = start.astimezone(zone).replace(tzinfo=None)
    # croniter returns times strictly after its base: one second before `start` makes `start` itself a candidate.
    base = local_start.replace(microsecond=0)
    if local_start.microsecond == 0:
        base -= dt.timedelta(seconds=1)
    walls = croniter(schedule.cron, base, day_or=schedule.day_or)
    end_wall = end.astimezone(zone).replace(tzinfo=None) + MAX_CLOCK_CHANGE if end is not None else None
    found: set[dt.datetime] = set()
    stop_wall: dt.datetime | None = None
    for _ in range(MAX_CANDIDATES + n):
        wall = walls.get_next(dt.datetime)
        if (stop_wall is not None and wall > stop_wall) or (end_wall is not None and wall > end_wall):
            break
        moment = _on_wall_clock(wall, zone)
        if moment < start or (end is not None and moment > end):
            continue
        found.add(moment)
        if stop_wall is None and len(found) >= n:
            stop_wall = wall + MAX_CLOCK_CHANGE
    return sorted(found)[:n]


def _rrule_times(schedule: RRuleSchedule, n: int, start: dt.datetime, end: dt.datetime | None) -> list[dt.datetime]:
    zone = ZoneInfo(schedule.timezone or "UTC")
    rule = _localised_rule(schedule.rrule, zone, start)
    found: list[dt.datetime] = []
    seen: set[dt.datetime] = set()
    for count, occurrence in enumerate(rule.xafter(start.astimezone(zone), count=None, inc=True)):
        moment = occurrence.astimezone(dt.UTC)
        if end is not None and moment > end:
            break
        if moment not in seen and moment >= start:
            seen.add(moment)
            found.append(moment)
        if len(found) >= n or count > MAX_CANDIDATES:
            break
    return sorted(found)


def _localised_rule(text: str, zone: ZoneInfo, start: dt.datetime) -> Any:
    """The rule (or rule set) of `text` with its start, end and dates read in `zone`, as Prefect reads them."""
    import dateutil.rrule

    rule = dateutil.rrule.rrulestr(text, dtstart=_rrule_anchor(text, zone, start), cache=True)

    def localise(item: dateutil.rrule.rrule) -> dateutil.rrule.rrule:
        changes = {"dtstart": item._dtstart.replace(tzinfo=zone)}
        if item._until:
            changes["until"] = item._until.replace(tzinfo=zone)
        return item.replace(**changes)

    if isinstance(rule, dateutil.rrule.rrule):
        return localise(rule)
    rule._rrule = [localise(item) for item in rule._rrule]
    rule._exrule = [localise(item) for item in rule._exrule]
    rule._rdate = [date.replace(tzinfo=zone) for date in rule._rdate]
    rule._exdate = [date.replace(tzinfo=zone) for date in rule._exdate]
    return rule


def _rrule_anchor(text: str, zone: ZoneInfo, start: dt.datetime) -> dt.datetime:
    """dateutil's default start (2020-01-01), moved forward by whole periods for a sub-daily rule without DTSTART
    or COUNT: the same occurrences, without walking every one of them since 2020 on each call (as Prefect does)."""
    upper = text.upper()
    if "DTSTART" in upper or "COUNT=" in upper or "\n" in text.strip():
        return RRULE_ANCHOR
    fields = dict(part.split("=", 1) for part in upper.replace("RRULE:", "").split(";") if "=" in part)
    unit = _RRULE_PERIOD_SECONDS.get(fields.get("FREQ", ""))
    if unit is None:
        return RRULE_ANCHOR
    try:
        period = unit * int(fields.get("INTERVAL", "1"))
    except ValueError:
        return RRULE_ANCHOR
    elapsed = (start.astimezone(zone).replace(tzinfo=None) - RRULE_ANCHOR).total_seconds()
    if elapsed <= period:
        return RRULE_ANCHOR
    return RRULE_ANCHOR + dt.timedelta(seconds=(int(elapsed) // period - 1) * period)

"""Functions templates use to show values: times, durations, state badges, JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from tornado.escape import xhtml_escape

from baton.states import LATE, TERMINAL_STATE_VALUES

STATE_TYPES = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING", "COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def as_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def time_tag(value: Any, *, relative: bool = False) -> str:
    """A <time> element: UTC in the HTML, turned into the reader's local time (and clock) by baton.js."""
    moment = as_datetime(value)
    if moment is None:
        return '<span class="muted">–</span>'
    utc = moment.astimezone(dt.UTC)
    iso = utc.isoformat().replace("+00:00", "Z")
    mode = "relative" if relative else "datetime"
    return f'<time datetime="{iso}" data-format="{mode}">{utc:%Y-%m-%d %H:%M:%S} UTC</time>'


def duration(seconds: Any) -> str:
    """'1h 2m 3s', '4.2s', '350ms'."""
    if seconds is None:
        return "–"
    if isinstance(seconds, dt.timedelta):
        seconds = seconds.total_seconds()
    seconds = float(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s"


def state_badge(state_type: Any, state_name: Any = None) -> str:
    """A coloured badge for a state; the name (user-chosen for custom states) is escaped."""
    kind = str(state_type or "unknown").lower()
    if state_name == LATE and kind == "scheduled":
        kind = "late"
    label = state_name or (str(state_type).title() if state_type else "No state")
    return f'<span class="badge state-{xhtml_escape(kind)}">{xhtml_escape(str(label))}</span>'


def pretty_json(value: Any) -> str:
    """Indented JSON text (escape it in the template, as every value)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=str).decode()


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


TEMPLATE_FUNCTIONS = {
    "time_tag": time_tag,
    "duration": duration,
    "state_badge": state_badge,
    "pretty_json": pretty_json,
    "plural": plural,
    "STATE_TYPES": STATE_TYPES,
    "TERMINAL_STATE_VALUES": TERMINAL_STATE_VALUES,
    "LATE": LATE,
}

"""A flow run's task runs as a Gantt-like SVG, drawn on the server.

One bar per task run from its start to its end (to `now` while it runs), coloured by state. Task runs of one task
called many times (`.map`, or a loop: the same `task_key`) collapse into one row "task × N" once there are more than
`MAPPED_THRESHOLD` of them, drawn as their overall span split by the share of each state. Pure: rows in, text out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from baton.webui.formatting import STATE_TYPES, as_datetime, duration

# More task runs than this with one task key are drawn as one row; up to it, one row each.
MAPPED_THRESHOLD = 5
# Rows drawn at most; a flow with more distinct tasks than this says how many it left out.
MAX_ROWS = 200
# Geometry, in SVG user units (the SVG scales to its container's width).
LABEL_WIDTH = 230
CHART_WIDTH = 750
ROW_HEIGHT = 22
AXIS_HEIGHT = 22
BAR_HEIGHT = 14
MIN_BAR_WIDTH = 2.0
LABEL_CHARS = 34
# Tick spacings to choose from, in seconds: the smallest that gives at most MAX_TICKS ticks.
TICK_STEPS = (
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.5,
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    21600,
    43200,
    86400,
)
MAX_TICKS = 6
NOT_FINISHED = frozenset({"RUNNING", "PENDING", "PAUSED", "CANCELLING", "SCHEDULED"})
# The 3.x client names task runs "<task>-<first 3 characters of the dynamic key>".
_RUN_SUFFIX = re.compile(r"-[0-9a-zA-Z]{1,3}$")


@dataclass
class TimelineRow:
    """One row: a single task run, or the task runs of one task key collapsed into a span."""

    label: str
    start: dt.datetime | None
    end: dt.datetime | None
    state_type: str
    state_name: str
    running: bool = False
    count: int = 1
    state_counts: Counter[str] = field(default_factory=Counter)

    @property
    def collapsed(self) -> bool:
        return self.count > 1


def task_name(run_name: str) -> str:
    """The task's name from a task run's name ("extract-1a2" -> "extract")."""
    return _RUN_SUFFIX.sub("", run_name) or run_name


def _bar_end(run: Mapping[str, Any], start: dt.datetime, now: dt.datetime) -> tuple[dt.datetime, bool]:
    end = as_datetime(run.get("end_time"))
    if end is not None:
        return max(end, start), False
    if (run.get("state_type") or "") in NOT_FINISHED:
        return max(now, start), True
    # Finished without an end time (crashed before the client could report it): its recorded run time.
    return start + dt.timedelta(seconds=float(run.get("total_run_time") or 0.0)), False


def _single_row(run: Mapping[str, Any], now: dt.datetime) -> TimelineRow:
    start = as_datetime(run.get("start_time"))
    state_type = str(run.get("state_type") or "PENDING")
    row = TimelineRow(
        label=str(run.get("name") or ""),
        start=start,
        end=None,
        state_type=state_type,
        state_name=str(run.get("state_name") or state_type.title()),
    )
    if start is not None:
        row.end, row.running = _bar_end(run, start, now)
    return row


def _collapsed_row(runs: Sequence[Mapping[str, Any]], now: dt.datetime) -> TimelineRow:
    singles = [_single_row(run, now) for run in runs]
    started = [single for single in singles if single.start is not None]
    counts = Counter(single.state_type for single in singles)
    main_state = counts.most_common(1)[0][0]
    return TimelineRow(
        label=f"{task_name(str(runs[0].get('name') or ''))} × {len(runs):,}",
        start=min((single.start for single in started), default=None),  # type: ignore[type-var]
        end=max((single.end for single in started), default=None),  # type: ignore[type-var]
        state_type=main_state,
        state_name=main_state.title(),
        running=any(single.running for single in singles),
        count=len(runs),
        state_counts=counts,
    )


def timeline_rows(task_runs: Sequence[Mapping[str, Any]], now: dt.datetime) -> list[TimelineRow]:
    """Rows in the order of `task_runs` (a collapsed row where its task key first appears)."""
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for run in task_runs:
        by_key.setdefault(str(run.get("task_key") or run.get("id")), []).append(run)
    rows: list[TimelineRow] = []
    emitted: set[str] = set()
    for run in task_runs:
        key = str(run.get("task_key") or run.get("id"))
        group = by_key[key]
        if len(group) <= MAPPED_THRESHOLD:
            rows.append(_single_row(run, now))
        elif key not in emitted:
            emitted.add(key)
            rows.append(_collapsed_row(group, now))
    return rows


def _tick_step(span_seconds: float) -> float:
    for step in TICK_STEPS:
        if span_seconds / step <= MAX_TICKS:
            return step
    return TICK_STEPS[-1] * (span_seconds // (TICK_STEPS[-1] * MAX_TICKS) + 1)


def _offset_label(seconds: float) -> str:
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:g}s"
    return duration(seconds).replace(" 0s", "").replace(" 0m", "")


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _state_title(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[kind]:,} {kind.title()}" for kind in STATE_TYPES if counts[kind]) or "no state"


def render_timeline(task_runs: Sequence[Mapping[str, Any]], now: dt.datetime) -> str:
    """The SVG of `task_runs` (rows with name, task_key, state_type, state_name, start_time, end_time,
    total_run_time), or "" when there are none. Every label and tooltip is escaped."""
    if not task_runs:
        return ""
    all_rows = timeline_rows(task_runs, now)
    rows, hidden = all_rows[:MAX_ROWS], len(all_rows) - MAX_ROWS
    starts = [row.start for row in rows if row.start is not None]
    ends = [row.end for row in rows if row.end is not None]
    origin = min(starts) if starts else now
    span = max(((max(ends) - origin).total_seconds() if ends else 0.0), 0.001)
    scale = CHART_WIDTH / span
    height = AXIS_HEIGHT + ROW_HEIGHT * (len(rows) + (1 if hidden > 0 else 0)) + 4
    width = LABEL_WIDTH + CHART_WIDTH + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Timeline of {len(task_runs):,} task runs">'
    ]
    step = _tick_step(span)
    tick = 0.0
    while tick <= span + 1e-9:
        x = LABEL_WIDTH + tick * scale
        parts.append(f'<line class="tl-grid" x1="{x:.1f}" y1="{AXIS_HEIGHT - 4}" x2="{x:.1f}" y2="{height}"/>')
        parts.append(f'<text class="tl-tick" x="{x:.1f}" y="{AXIS_HEIGHT - 8}">{_offset_label(round(tick, 3))}</text>')
        tick += step
    for index, row in enumerate(rows):
        y = AXIS_HEIGHT + index * ROW_HEIGHT
        parts.append(_row_svg(row, y, origin, scale))
    if hidden > 0:
        y = AXIS_HEIGHT + len(rows) * ROW_HEIGHT + 15
        parts.append(f'<text class="tl-label tl-more" x="4" y="{y}">… and {hidden:,} more rows not drawn</text>')
    parts.append("</svg>")
    return "".join(parts)


def _row_svg(row: TimelineRow, y: int, origin: dt.datetime, scale: float) -> str:
    kind = escape(row.state_type.lower())
    label = escape(row.label)
    group_class = "tl-row tl-collapsed" if row.collapsed else "tl-row"
    out = [
        f'<g class="{group_class}" data-state="{kind}"><text class="tl-label" x="4" y="{y + 15}">'
        f"<title>{label}</title>{escape(_short(row.label))}</text>"
    ]
    bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2
    if row.start is None or row.end is None:
        summary = _state_title(row.state_counts) if row.collapsed else escape(row.state_name)
        out.append(f'<text class="tl-note" x="{LABEL_WIDTH + 4}" y="{y + 15}">not started ({escape(summary)})</text>')
        out.append("</g>")
        return "".join(out)
    x = LABEL_WIDTH + (row.start - origin).total_seconds() * scale
    seconds = (row.end - row.start).total_seconds()
    width = max(seconds * scale, MIN_BAR_WIDTH)
    timing = f"starts at +{_offset_label((row.start - origin).total_seconds())}, {duration(seconds)}"
    timing += " so far" if row.running else ""
    if not row.collapsed:
        title = escape(f"{row.label}: {row.state_name}; {timing}")
        running = " tl-live" if row.running else ""
        out.append(
            f'<rect class="tl-bar tl-{kind}{running}" x="{x:.1f}" y="{bar_y:.1f}" width="{width:.1f}" '
            f'height="{BAR_HEIGHT}" rx="3"><title>{title}</title></rect>'
        )
    else:
        title = escape(f"{row.label}: {_state_title(row.state_counts)}; {timing}")
        out.append(
            f'<rect class="tl-span" x="{x:.1f}" y="{bar_y:.1f}" width="{width:.1f}" height="{BAR_HEIGHT}" rx="3">'
            f"<title>{title}</title></rect>"
        )
        offset = x
        for state in [*STATE_TYPES, *sorted(set(row.state_counts) - set(STATE_TYPES))]:
            count = row.state_counts.get(state, 0)
            if not count:
                continue
            part = width * count / row.count
            out.append(
                f'<rect class="tl-bar tl-{escape(state.lower())}" x="{offset:.1f}" y="{bar_y + 3:.1f}" '
                f'width="{part:.1f}" height="{BAR_HEIGHT - 6}"><title>{title}</title></rect>'
            )
            offset += part
    out.append("</g>")
    return "".join(out)

"""The parts of the flow run page that follow its task runs, drawn the same way for the page and for its live stream:
a task-run table row, the counts per state, and the timeline panel (kept in memory by `LiveTimeline` while a stream
is open, so that a change redraws it without reading every task run again)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from baton.webui.formatting import STATE_TYPES, as_datetime, duration, plural, state_badge, time_tag
from baton.webui.timeline import NOT_FINISHED, render_timeline

# Task runs drawn in the timeline at most (mapped ones collapse, so this is rarely reached).
TIMELINE_LIMIT = 10_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def task_run_duration(task_run: Mapping[str, Any], now: dt.datetime) -> float | None:
    """Start to end; start to now while it runs; else its recorded run time."""
    start, end = as_datetime(task_run["start_time"]), as_datetime(task_run["end_time"])
    if start is not None and end is not None:
        return (end - start).total_seconds()
    if start is not None and task_run["state_type"] == "RUNNING":
        return (now - start).total_seconds()
    return task_run["total_run_time"]


def sort_key(task_run: Mapping[str, Any]) -> str:
    """The page's order of task runs (start, else expected start, else creation; then id) as a string that sorts
    the same way in the browser."""
    moment = next(
        (
            value
            for value in (as_datetime(task_run.get(name)) for name in ("start_time", "expected_start_time", "created"))
            if value is not None
        ),
        _EPOCH,
    )
    return f"{moment.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S.%f}Z {task_run['id']}"


def task_run_row(task_run: Mapping[str, Any], now: dt.datetime) -> str:
    """The task-run table's row for `task_run`; every value escaped."""
    tags = "".join(f'<span class="tag">{escape(str(tag))}</span>' for tag in task_run.get("tags") or [])
    return (
        f'<tr data-id="{escape(str(task_run["id"]))}" data-sort="{escape(sort_key(task_run))}">'
        f'<td class="wrap"><a href="/task-runs/{escape(str(task_run["id"]))}">{escape(str(task_run["name"]))}</a></td>'
        f"<td>{state_badge(task_run['state_type'], task_run['state_name'])}</td>"
        f"<td>{time_tag(task_run['start_time'])}</td>"
        f'<td class="num">{escape(duration(task_run_duration(task_run, now)))}</td>'
        f"<td>{tags}</td></tr>"
    )


def state_counts(counts: Mapping[str, int]) -> str:
    """A badge per state with its count, in the usual order of states ("" when there are no task runs)."""
    order = [*STATE_TYPES, *sorted(set(counts) - set(STATE_TYPES))]
    return "".join(
        state_badge(kind or None, f"{kind.title() if kind else 'No state'} {counts[kind]:,}")
        for kind in order
        if counts.get(kind)
    )


def timeline_panel(task_runs: Sequence[Mapping[str, Any]], total: int, now: dt.datetime) -> str:
    """The timeline panel's content: the SVG and how much of it is drawn, or that there are no task runs yet."""
    if not task_runs:
        return '<p class="muted">This run has no task runs yet.</p>'
    note = ""
    if len(task_runs) < total:
        note = f'<p class="muted">The first {plural(len(task_runs), "task run")} of {total:,} are drawn.</p>'
    return render_timeline(task_runs, now) + note


class LiveTimeline:
    """A flow run's timeline rows, kept while its page's stream is open: the rows read once, then the changed ones
    merged in. Holds at most `limit` task runs (the first in the page's order), as the page draws."""

    def __init__(self, task_runs: Iterable[Mapping[str, Any]], limit: int) -> None:
        self.limit = limit
        self._runs: dict[uuid.UUID, Mapping[str, Any]] = {run["id"]: run for run in task_runs}

    def merge(self, task_runs: Iterable[Mapping[str, Any]]) -> None:
        for run in task_runs:
            self._runs[run["id"]] = run
        if len(self._runs) > self.limit:
            kept = sorted(self._runs.values(), key=sort_key)[: self.limit]
            self._runs = {run["id"]: run for run in kept}

    @property
    def running(self) -> bool:
        """Whether a bar grows with time (a task run has started and not finished)."""
        return any(run["state_type"] in NOT_FINISHED and run["start_time"] for run in self._runs.values())

    def render(self, total: int, now: dt.datetime) -> str:
        return timeline_panel(sorted(self._runs.values(), key=sort_key), total, now)

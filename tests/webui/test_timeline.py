"""The task-run timeline SVG: one bar per task run, mapped tasks collapsed, labels escaped, running bars up to now."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from typing import Any

from baton.webui.timeline import MAPPED_THRESHOLD, render_timeline, task_name, timeline_rows

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
SVG = "{http://www.w3.org/2000/svg}"


def task_run(name: str, key: str, state: str, start: float | None, end: float | None, **extra: Any) -> dict[str, Any]:
    """A task run row; `start` and `end` are seconds before NOW."""
    return {
        "id": uuid.uuid4(),
        "name": name,
        "task_key": key,
        "state_type": state,
        "state_name": extra.pop("state_name", state.title()),
        "start_time": None if start is None else NOW - dt.timedelta(seconds=start),
        "end_time": None if end is None else NOW - dt.timedelta(seconds=end),
        "total_run_time": extra.pop("total_run_time", 0.0),
    }


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # also proves the SVG is well-formed XML


def test_one_row_per_task_run_up_to_the_threshold() -> None:
    runs = [task_run(f"extract-{i:03d}", "extract-key", "COMPLETED", 60 - i, 50 - i) for i in range(MAPPED_THRESHOLD)]
    runs.append(task_run("load-abc", "load-key", "FAILED", 40, 30))
    root = parse(render_timeline(runs, NOW))
    rows = root.findall(f"{SVG}g")
    assert len(rows) == MAPPED_THRESHOLD + 1
    bars = root.findall(f".//{SVG}rect")
    assert [bar.get("class") for bar in bars] == ["tl-bar tl-completed"] * MAPPED_THRESHOLD + ["tl-bar tl-failed"]
    # The first bar starts at the left edge of the chart; the failed one ends at the right edge.
    first, last = bars[0], bars[-1]
    assert float(first.get("x") or 0) == 230.0
    assert abs(float(last.get("x") or 0) + float(last.get("width") or 0) - 980.0) < 0.2


def test_mapped_task_runs_collapse_into_one_row_with_state_counts() -> None:
    runs = [task_run(f"square-{i:03x}", "square-key", "COMPLETED", 100 - i * 0.05, 99 - i * 0.05) for i in range(990)]
    runs += [task_run(f"square-f{i:02d}", "square-key", "FAILED", 50, 49) for i in range(10)]
    runs.insert(0, task_run("setup-000", "setup-key", "COMPLETED", 120, 110))
    rows = timeline_rows(runs, NOW)
    assert [(row.label, row.count) for row in rows] == [("setup-000", 1), ("square × 1,000", 1000)]
    collapsed = rows[1]
    assert collapsed.state_counts == {"COMPLETED": 990, "FAILED": 10}
    assert collapsed.start == NOW - dt.timedelta(seconds=100)
    assert collapsed.end == NOW - dt.timedelta(seconds=49)

    svg = render_timeline(runs, NOW)
    root = parse(svg)
    group = root.findall(f"{SVG}g")[1]
    assert group.get("class") == "tl-row tl-collapsed"
    assert "square × 1,000" in "".join(group.itertext())
    title = group.find(f"{SVG}rect/{SVG}title")
    assert title is not None and title.text is not None
    assert title.text.startswith("square × 1,000: 990 Completed, 10 Failed;")
    # The span is split by state share: 99% completed, 1% failed.
    completed, failed = group.findall(f"{SVG}rect")[1:]
    ratio = float(completed.get("width") or 0) / float(failed.get("width") or 1)
    assert abs(ratio - 99) < 1
    assert svg.count("<rect") == 1 + 3  # one bar for setup, span + two state parts: not a thousand bars


def test_labels_and_tooltips_are_escaped() -> None:
    name = "<script>alert('x')</script>&-abc"
    svg = render_timeline([task_run(name, "k", "COMPLETED", 10, 5, state_name="<b>Done</b>")], NOW)
    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)
    label = root.find(f".//{SVG}text[@class='tl-label']")
    assert label is not None
    assert "".join(label.itertext()).startswith("<script>alert('x')</script>&")
    title = root.find(f".//{SVG}rect/{SVG}title")
    assert title is not None and title.text is not None and "<b>Done</b>" in title.text


def test_running_bar_ends_at_now_and_unstarted_runs_are_noted() -> None:
    runs = [
        task_run("done-001", "done", "COMPLETED", 30, 20),
        task_run("busy-001", "busy", "RUNNING", 10, None),
        task_run("waiting-001", "waiting", "PENDING", None, None),
    ]
    rows = timeline_rows(runs, NOW)
    assert rows[1].running and rows[1].end == NOW
    assert rows[2].start is None
    root = parse(render_timeline(runs, NOW))
    busy = root.findall(f".//{SVG}rect")[1]
    assert busy.get("class") == "tl-bar tl-running tl-live"
    # 30 s are drawn on 750 units: the running bar spans the last 10 s, to the chart's right edge (now).
    assert abs(float(busy.get("width") or 0) - 250.0) < 0.2
    assert abs(float(busy.get("x") or 0) + 250.0 - 980.0) < 0.2
    note = root.findall(f"{SVG}g")[2].find(f"{SVG}text[@class='tl-note']")
    assert note is not None and note.text == "not started (Pending)"


def test_finished_run_without_end_time_uses_its_run_time_and_axis_has_ticks() -> None:
    runs = [
        task_run("crashed-001", "c", "CRASHED", 120, None, total_run_time=30.0),
        task_run("x-001", "x", "COMPLETED", 60, 0),
    ]
    rows = timeline_rows(runs, NOW)
    assert rows[0].end == NOW - dt.timedelta(seconds=90)
    ticks = re.findall(r'class="tl-tick"[^>]*>([^<]+)<', render_timeline(runs, NOW))
    assert ticks == ["0s", "30s", "1m", "1m 30s", "2m"]


def test_no_task_runs_draw_nothing_and_task_names_lose_their_suffix() -> None:
    assert render_timeline([], NOW) == ""
    assert task_name("extract-1a2") == "extract"
    assert task_name("my-task-0") == "my-task"
    assert task_name("plain") == "plain"

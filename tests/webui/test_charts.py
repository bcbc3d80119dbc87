"""The server-drawn stacked bar chart: segments per state with tooltips, a summary label, and escaped values."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from baton.webui.charts import Bucket, stacked_bar_chart, totals_by_state

SVG = "{http://www.w3.org/2000/svg}"
START = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
FIVE = dt.timedelta(minutes=5)


def title(element: ET.Element) -> str:
    found = element.find(f".//{SVG}title")
    assert found is not None and found.text is not None
    return found.text


def number(element: ET.Element, name: str) -> float:
    return float(element.get(name, "nan"))


def buckets(*counts: dict[str, int]) -> list[Bucket]:
    return [Bucket(START + i * FIVE, START + (i + 1) * FIVE, c) for i, c in enumerate(counts)]


def test_segments_are_stacked_per_state_with_tooltips() -> None:
    chart = buckets({"COMPLETED": 12, "FAILED": 2}, {}, {"RUNNING": 1})
    svg = ET.fromstring(stacked_bar_chart(chart))
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == "15 flow runs: 1 Running, 12 Completed, 2 Failed."
    groups = svg.findall(f"{SVG}g")
    assert [g.get("data-start") for g in groups] == [
        "2026-12-01T10:00:00Z",
        "2026-12-01T10:05:00Z",
        "2026-12-01T10:10:00Z",
    ]
    first = groups[0].findall(f"{SVG}rect")
    assert [r.get("class") for r in first] == ["bar state-completed", "bar state-failed"]
    assert [title(r) for r in first] == ["12 Completed, 10:00–10:05 UTC", "2 Failed, 10:00–10:05 UTC"]
    assert groups[1].findall(f"{SVG}rect") == []
    # Stacked: the failed segment sits on top of the completed one, and heights are proportional to the counts.
    completed, failed = first
    assert number(failed, "y") + number(failed, "height") == number(completed, "y")
    assert abs(number(completed, "height") / number(failed, "height") - 6) < 0.05


def test_empty_chart_and_totals() -> None:
    chart = buckets({}, {})
    svg = ET.fromstring(stacked_bar_chart(chart, subject="task runs"))
    assert svg.get("aria-label") == "No task runs in this period."
    assert svg.findall(f".//{SVG}rect") == []
    assert totals_by_state(buckets({"FAILED": 1, "COMPLETED": 2}, {"COMPLETED": 1, "Custom": 3})) == {
        "COMPLETED": 3,
        "FAILED": 1,
        "Custom": 3,
    }


def test_state_types_are_escaped_and_a_week_names_days() -> None:
    chart = [Bucket(START + i * dt.timedelta(hours=6), START + (i + 1) * dt.timedelta(hours=6), {}) for i in range(28)]
    chart[0] = Bucket(chart[0].start, chart[0].end, {'"><script>': 1})
    markup = stacked_bar_chart(chart)
    assert "<script>" not in markup
    svg = ET.fromstring(markup)
    labels = [text.text for text in svg.findall(f"{SVG}text") if text.get("class") == "x-label"]
    assert len(labels) <= 8 and labels[0] == "Dec 1 10:00"
    assert re.fullmatch(r"1 \S+, Dec 1 10:00–16:00 UTC", title(svg))

"""Charts drawn on the server as SVG: pure functions from counts to markup, coloured by the state classes' CSS."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tornado.escape import xhtml_escape

from baton.webui.formatting import STATE_TYPES

# The drawing's own coordinate system; CSS scales it to the panel's width.
CHART_WIDTH = 900
CHART_HEIGHT = 220
MARGIN_LEFT = 44
MARGIN_RIGHT = 8
MARGIN_TOP = 10
MARGIN_BOTTOM = 24
# At most this many time labels under the bars, so that they never overlap.
MAX_AXIS_LABELS = 8
BAR_FILL = 0.72  # the share of its slot a bar covers


@dataclass(frozen=True)
class Bucket:
    """One bar: the runs counted per state type between `start` and `end`."""

    start: dt.datetime
    end: dt.datetime
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def state_label(state_type: str) -> str:
    return state_type.title()


def totals_by_state(buckets: Sequence[Bucket]) -> dict[str, int]:
    """The counts of every bucket added up, in the order of STATE_TYPES (then any other type), zeros left out."""
    totals: dict[str, int] = {}
    for bucket in buckets:
        for state_type, count in bucket.counts.items():
            totals[state_type] = totals.get(state_type, 0) + count
    return {state: totals[state] for state in _ordered(totals) if totals[state]}


def stacked_bar_chart(buckets: Sequence[Bucket], *, subject: str = "flow runs") -> str:
    """An <svg role="img"> with one bar per bucket, stacked by state type; each segment has the classes `bar
    state-<type>` and a <title> such as "12 Completed, 10:00–10:05 UTC", and its bucket's <g> carries the times as
    `data-start` / `data-end` (ISO, UTC) for scripts that show local times. The aria-label sums up the totals."""
    plot_width = CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    baseline = MARGIN_TOP + plot_height
    top = _nice_ceiling(max((bucket.total for bucket in buckets), default=0))
    slot = plot_width / max(len(buckets), 1)
    with_date = bool(buckets) and (buckets[-1].end - buckets[0].start) > dt.timedelta(days=1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-label="{xhtml_escape(_summary(buckets, subject))}" class="stacked-bars" data-max="{top}">'
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = baseline - fraction * plot_height
        value = top * fraction
        parts.append(
            f'<line class="grid-line" x1="{MARGIN_LEFT}" x2="{CHART_WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="y-label" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    label_every = max(1, math.ceil(len(buckets) / MAX_AXIS_LABELS))
    for index, bucket in enumerate(buckets):
        x = MARGIN_LEFT + index * slot
        next_day = bucket.end.astimezone(dt.UTC).date() != bucket.start.astimezone(dt.UTC).date()
        period = f"{_clock(bucket.start, with_date)}–{_clock(bucket.end, with_date and next_day)}"
        parts.append(
            f'<g class="bucket" data-start="{_iso(bucket.start)}" data-end="{_iso(bucket.end)}" '
            f'data-total="{bucket.total}">'
        )
        y = float(baseline)
        for state_type in _ordered(bucket.counts):
            count = bucket.counts[state_type]
            if count <= 0:
                continue
            height = count / top * plot_height
            y -= height
            kind = xhtml_escape(state_type.lower())
            title = xhtml_escape(f"{count} {state_label(state_type)}, {period} UTC")
            parts.append(
                f'<rect class="bar state-{kind}" x="{x + slot * (1 - BAR_FILL) / 2:.1f}" y="{y:.1f}" '
                f'width="{slot * BAR_FILL:.1f}" height="{height:.1f}" data-state="{xhtml_escape(state_type)}" '
                f'data-count="{count}"><title>{title}</title></rect>'
            )
        parts.append("</g>")
        if index % label_every == 0:
            parts.append(
                f'<text class="x-label" x="{x + slot / 2:.1f}" y="{CHART_HEIGHT - 6}" text-anchor="middle" '
                f'data-time="{_iso(bucket.start)}" data-with-date="{str(with_date).lower()}">'
                f"{_clock(bucket.start, with_date)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _summary(buckets: Sequence[Bucket], subject: str) -> str:
    totals = totals_by_state(buckets)
    if not totals:
        return f"No {subject} in this period."
    listed = ", ".join(f"{count:,} {state_label(state)}" for state, count in totals.items())
    return f"{sum(totals.values()):,} {subject}: {listed}."


def _ordered(counts: Mapping[str, int]) -> list[str]:
    known = [state for state in STATE_TYPES if state in counts]
    return known + sorted(state for state in counts if state not in STATE_TYPES)


def _nice_ceiling(value: int) -> int:
    """The smallest even one of 2, 4, 6, 8, 10, 20, 40, ... at least `value` (so that half of it is whole too)."""
    if value <= 1:
        return 2
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 6, 8, 10):
        if step * magnitude >= value and (step * magnitude) % 2 == 0:
            return step * magnitude
    return 10 * magnitude


def _clock(moment: dt.datetime, with_date: bool) -> str:
    utc = moment.astimezone(dt.UTC)
    return f"{utc:%b} {utc.day} {utc:%H:%M}" if with_date else f"{utc:%H:%M}"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

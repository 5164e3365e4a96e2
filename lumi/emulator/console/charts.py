"""Charts of the Events view as geometry for inline SVG: turn latency over time, its
distribution, the error rate over time, and events per minute.

Written here rather than taken from a charting library: four small charts of marks on two linear
axes are less code than adapting one, and inline SVG needs no script, no request and no style
that the page's Content-Security-Policy would have to allow.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from lumi.emulator.console.conversations import Span, Stored, Turn

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
#: Text anchors of four x ticks: the outer ones stay inside the plot.
_EDGE = ("start", "middle", "middle", "end")
#: Points on the latency chart at most (the newest turns).
MAX_POINTS = 2_000
BINS = 12
TIME_BUCKETS = 24
MINUTES = 60
#: The widest bar of the events chart (a single minute would fill the plot).
MAX_BAR = 40.0


@dataclass(frozen=True)
class Mark:
    shape: str  # "circle", "rect" or "line"
    x: float
    y: float
    w: float = 0.0  # rect width; line: x2
    h: float = 0.0  # rect height; line: y2
    css: str = ""
    label: str = ""


@dataclass(frozen=True)
class Tick:
    axis: str  # "x" or "y"
    at: float
    label: str
    anchor: str = "middle"  # x ticks: SVG text-anchor


@dataclass
class Chart:
    key: str
    title: str
    summary: str
    """One sentence for screen readers and under the chart."""
    marks: list[Mark] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_w: int = PLOT_W
    plot_h: int = PLOT_H


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above ``value`` (1 for nothing), never below
    a millionth (a smaller power of ten underflows to 0) and never infinite."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    value = max(value, 1e-6)
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * power
        if value <= candidate * (1 + 1e-9):
            return candidate if math.isfinite(candidate) else value
    return value


def ms_label(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f} s"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.3g} ms"


def clock(ms: float, *, fine: bool = False) -> str:
    """A local time of day; ``fine`` adds milliseconds."""
    text = time.strftime("%H:%M:%S", time.localtime(ms / 1000))
    return f"{text}.{int(ms % 1000):03d}" if fine else text


def _count_top(highest: int) -> float:
    """The top of a count axis: a multiple of 4 (4, 8, 12, 16, 20, 40, ...), so that its five
    ticks are whole numbers."""
    power = 1
    while True:
        for step in (4, 8, 12, 16, 20):
            if step * power >= highest:
                return float(step * power)
        power *= 10


def _y_ticks(top: float, fmt: str = "ms") -> list[Tick]:
    ticks = []
    for step in range(5):
        value = top * step / 4
        label = ms_label(value) if fmt == "ms" else f"{value:.0%}" if fmt == "%" else f"{value:g}"
        ticks.append(Tick("y", TOP + PLOT_H - PLOT_H * step / 4, label))
    return ticks


def _x_time_ticks(start: float, end: float) -> list[Tick]:
    if end <= start:
        return [Tick("x", LEFT + PLOT_W / 2, clock(start, fine=True))]
    fine = end - start < 4_000  # seconds apart or less: show milliseconds
    return [
        Tick("x", LEFT + PLOT_W * i / 3, clock(start + (end - start) * i / 3, fine=fine), _EDGE[i])
        for i in range(4)
    ]


def _x(value: float, start: float, end: float) -> float:
    return LEFT + (PLOT_W / 2 if end <= start else PLOT_W * (value - start) / (end - start))


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H - PLOT_H * min(value, top) / top


def latency_over_time(turns: Sequence[Turn]) -> Chart:
    """Each turn a point: when it started, how long it took; failed turns marked."""
    timed = [(t, t.start_ms, t.latency_ms) for t in turns]
    points = [(t, s, lat) for t, s, lat in timed if s is not None and lat is not None]
    points.sort(key=lambda item: item[1])
    points = points[-MAX_POINTS:]
    left_out = len(turns) - len(points)
    chart = Chart("latency", "Turn latency over time", "")
    if not points:
        chart.summary = "No turn with a start time and a latency yet."
        return chart
    start, end = points[0][1], points[-1][1]
    top = nice_ceiling(max(lat for _, _, lat in points))
    for turn, at, latency in points:
        status = "failed" if turn.failed else "ok"
        chart.marks.append(
            Mark(
                "circle",
                _x(at, start, end),
                _y(latency, top),
                css="err" if turn.failed else "ok",
                label=f"turn {turn.seq or '?'} at {clock(at)}: {ms_label(latency)}, {status}",
            )
        )
    chart.ticks = _y_ticks(top) + _x_time_ticks(start, end)
    chart.summary = (
        f"{len(points)} turns from {clock(start)} to {clock(end)}; latency up to"
        f" {ms_label(max(lat for _, _, lat in points))}"
        + (
            f"; {left_out} turns without a start time or latency are not plotted"
            if left_out
            else ""
        )
    )
    return chart


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def latency_distribution(turns: Sequence[Turn]) -> Chart:
    """A histogram of turn latencies, with p50 and p90 marked."""
    values = [t.latency_ms for t in turns if t.latency_ms is not None]
    chart = Chart("distribution", "Turn latency distribution", "")
    if not values:
        chart.summary = "No turn latency yet."
        return chart
    top = nice_ceiling(percentile(values, 0.99) if len(values) >= 20 else max(values))
    counts = [0] * BINS
    for value in values:
        counts[min(BINS - 1, int(value / top * BINS))] += 1  # past p99: the last bin
    highest = _count_top(max(counts))
    width = PLOT_W / BINS
    for index, count in enumerate(counts):
        low, high = top * index / BINS, top * (index + 1) / BINS
        range_text = (
            f"{ms_label(low)} to {ms_label(high)}" if index < BINS - 1 else f"≥ {ms_label(low)}"
        )
        height = PLOT_H * count / highest
        chart.marks.append(
            Mark(
                "rect",
                LEFT + index * width + 1,
                TOP + PLOT_H - height,
                width - 2,
                height,
                css="bar",
                label=f"{range_text}: {count} turns",
            )
        )
    p50, p90 = statistics.median(values), percentile(values, 0.9)
    for name, value in (("p50", p50), ("p90", p90)):
        x = LEFT + PLOT_W * min(value, top) / top
        chart.marks.append(
            Mark("line", x, TOP, x, TOP + PLOT_H, css=name, label=f"{name} {ms_label(value)}")
        )
    chart.ticks = _y_ticks(highest, "count") + [
        Tick("x", LEFT + PLOT_W * i / 4, ms_label(top * i / 4), "end" if i == 4 else "middle")
        for i in range(5)
    ]
    chart.summary = (
        f"{len(values)} turns: p50 {ms_label(p50)}, p90 {ms_label(p90)},"
        f" max {ms_label(max(values))}"
    )
    return chart


def error_rate(turns: Sequence[Turn]) -> Chart:
    """The share of failed turns in each slice of time."""
    timed = sorted((t.start_ms, t.failed) for t in turns if t.start_ms is not None)
    chart = Chart("errors", "Error rate", "")
    failed_all = sum(t.failed for t in turns)
    if not turns:
        chart.summary = "No turn yet."
        return chart
    overall = f"{failed_all} of {len(turns)} turns failed ({failed_all / len(turns):.0%})"
    if not timed:
        chart.summary = overall + "; none has a start time to plot"
        return chart
    start, end = timed[0][0], timed[-1][0]
    slots = TIME_BUCKETS if end > start else 1
    totals, failures = [0] * slots, [0] * slots
    for at, failed in timed:
        slot = 0 if end <= start else min(slots - 1, int((at - start) / (end - start) * slots))
        totals[slot] += 1
        failures[slot] += failed
    width = PLOT_W / slots
    for slot in range(slots):
        if not totals[slot]:
            continue
        rate = failures[slot] / totals[slot]
        height = max(PLOT_H * rate, 1.0)
        begin = start + (end - start) * slot / slots
        chart.marks.append(
            Mark(
                "rect",
                LEFT + slot * width + 1,
                TOP + PLOT_H - height,
                max(width - 2, 1.0),
                height,
                css="err" if failures[slot] else "ok",
                label=f"from {clock(begin)}: {failures[slot]} of {totals[slot]} turns failed",
            )
        )
    chart.ticks = _y_ticks(1.0, "%") + _x_time_ticks(start, end)
    chart.summary = overall
    return chart


def events_per_minute(events: Sequence[Stored]) -> Chart:
    """Events received in each of the last minutes up to the newest event."""
    minutes: dict[int, int] = {}
    for stored in events:
        at = stored.time_ms
        if at is not None:
            minute = int(at // 60_000)
            minutes[minute] = minutes.get(minute, 0) + 1
    chart = Chart("rate", "Events per minute", "")
    if not minutes:
        chart.summary = "No event with a time yet."
        return chart
    last = max(minutes)
    first = max(min(minutes), last - MINUTES + 1)
    span = last - first + 1
    counts = [minutes.get(first + i, 0) for i in range(span)]
    highest = _count_top(max(counts))
    width = PLOT_W / span
    bar = min(max(width - 2, 1.0), MAX_BAR)
    for index, count in enumerate(counts):
        if not count:
            continue
        height = PLOT_H * count / highest
        chart.marks.append(
            Mark(
                "rect",
                LEFT + index * width + (width - bar) / 2,
                TOP + PLOT_H - height,
                bar,
                height,
                css="bar",
                label=f"{clock((first + index) * 60_000)[:5]}: {count} events",
            )
        )
    chart.ticks = _y_ticks(highest, "count") + [
        Tick("x", LEFT + width * (i + 0.5), clock((first + i) * 60_000)[:5])
        for i in sorted({0, span // 2, span - 1})
    ]
    chart.summary = (
        f"{sum(counts)} events over {span} minute{'s' if span > 1 else ''} up to"
        f" {clock(last * 60_000)[:5]}; busiest minute {max(counts)}"
    )
    return chart


def all_charts(turns: Sequence[Turn], events: Sequence[Stored]) -> list[Chart]:
    return [
        latency_over_time(turns),
        latency_distribution(turns),
        error_rate(turns),
        events_per_minute(events),
    ]


@dataclass(frozen=True)
class Bar:
    """One LLM or tool call on a turn's timeline (x and width in 0-1000 of the turn's span)."""

    kind: str
    label: str
    x: float
    width: float
    row: int
    status: str


def turn_timeline(turn: Turn) -> list[Bar]:
    """The turn's calls laid out on one axis from the turn's start; calls without a start time or
    latency are listed by the page but not drawn."""
    timed: list[tuple[Span, float, float]] = []
    for span in turn.spans():
        if span.offset_ms is not None and span.latency_ms is not None:
            timed.append((span, span.offset_ms, span.latency_ms))
    if not timed:
        return []
    end = max([turn.latency_ms or 0.0] + [offset + latency for _, offset, latency in timed])
    begin = min([0.0] + [offset for _, offset, _ in timed])
    # Below a nanosecond the calls are drawn at the start (1000 / a denormal is infinite).
    scale = 1000 / (end - begin) if end - begin > 1e-6 else 0.0
    bars = []
    for row, (span, offset, latency) in enumerate(timed):
        label = f"{span.kind} {span.label}: {ms_label(latency)} at +{ms_label(offset)}"
        bars.append(
            Bar(
                span.kind,
                label + (f", {span.status}" if span.status else ""),
                (offset - begin) * scale,
                max(latency * scale, 2.0),
                row,
                span.status,
            )
        )
    return bars

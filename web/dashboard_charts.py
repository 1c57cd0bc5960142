"""The dashboard's charts, laid out on the server as plain shapes that the template
`_dashboard_chart.html` draws as SVG.

Each function turns numbers into a `Chart`: rectangles, lines and text at computed positions in
a fixed coordinate box (the SVG's viewBox; the browser scales it). No script, no style
attribute (the CSP forbids inline styles): colours are presentation attributes. Every bar keeps
its series, category and value as data attributes and a <title>, so a reader (or a test) can
tell what it shows. The words and numbers drawn are in the current language (i18n); the data
attributes keep the raw values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from i18n import _, format_number, n_

# Colour-blind-safe (Okabe-Ito), then a few more; series past the last reuse them in order.
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
    "#999999",
    "#7f3c8d",
)
PERCENTILE_COLOURS = {"p50": "#009e73", "p95": "#e69f00", "p99": "#d55e00"}
WIDTH = 760
LABEL_WIDTH = 150  # left margin of the horizontal bar charts: the category names
BAR_HEIGHT = 18
GAP = 6


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    series: str  # e.g. the command, or 'p95'
    category: str  # e.g. the day, or the command
    value: float
    title: str  # the tooltip: what the bar says in words


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"  # start | middle | end
    kind: str = "label"  # a CSS class: label, tick, value, legend


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True, slots=True)
class Swatch:
    x: float
    y: float
    fill: str


@dataclass(frozen=True, slots=True)
class Chart:
    key: str  # the chart's id in the page: calls, latency, outcomes, funnel
    title: str
    width: float
    height: float
    bars: tuple[Bar, ...] = ()
    labels: tuple[Label, ...] = ()
    lines: tuple[Line, ...] = ()
    swatches: tuple[Swatch, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.bars


def colours(series: Sequence[str]) -> dict[str, str]:
    """One colour per series, in order."""
    return {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(series)}


def nice_ceiling(value: float) -> float:
    """The axis maximum (four grid steps): `value` rounded up to 1, 2, 4 or 8 times a power of
    ten, at least 4."""
    if value <= 4:
        return 4.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 8, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # unreachable: value <= 10 * power


def _number(value: float) -> str:
    """A tick or a bar's value: whole from 100 up, else to one decimal (as the reader writes)."""
    return format_number(round(value) if value >= 100 or value == int(value) else round(value, 1))


def _legend(names: Sequence[str], fills: Mapping[str, str], top: float) -> tuple[list, list, float]:
    """Swatches and names in rows under the plot; the height they take."""
    swatches, labels = [], []
    x, y = 0.0, top
    for name in names:
        width = 22 + 7.5 * len(name) + 14
        if x + width > WIDTH and x > 0:
            x, y = 0.0, y + 18
        swatches.append(Swatch(x, y, fills[name]))
        labels.append(Label(x + 16, y + 10, name, kind="legend"))
        x += width
    return swatches, labels, y - top + 18


def stacked_days(days: Sequence[str], series: Mapping[str, Sequence[int]], key: str, title: str):
    """Vertical bars, one per day, stacked by series (calls per day per command)."""
    plot_left, plot_top, plot_height = 48.0, 10.0, 220.0
    plot_width = WIDTH - plot_left
    totals = [sum(counts[i] for counts in series.values()) for i in range(len(days))]
    top_value = nice_ceiling(max(totals, default=0))
    fills = colours(list(series))
    slot = plot_width / max(len(days), 1)
    bar_width = max(1.0, slot * 0.7)
    bars, labels, lines = [], [], []
    for tick in range(5):
        value = top_value * tick / 4
        y = plot_top + plot_height - plot_height * tick / 4
        lines.append(Line(plot_left, y, WIDTH, y))
        labels.append(Label(plot_left - 6, y + 4, _number(value), "end", "tick"))
    label_every = max(1, math.ceil(len(days) / 12))
    for index, day in enumerate(days):
        x = plot_left + slot * index + (slot - bar_width) / 2
        base = plot_top + plot_height
        for name, counts in series.items():
            count = counts[index]
            if not count:
                continue
            height = plot_height * count / top_value
            base -= height
            # Translators: a bar's tooltip on the dashboard: a day, a command and its calls.
            tooltip = n_("{day}: {command} {count} call", "{day}: {command} {count} calls",
                         count, day=day, command=name)  # fmt: skip
            bars.append(
                Bar(x, base, bar_width, height, fills[name], name, day, count, tooltip)
            )  # fmt: skip
        if index % label_every == 0:
            labels.append(Label(x + bar_width / 2, plot_top + plot_height + 16, day[5:], "middle",
                                "tick"))  # fmt: skip
    swatches, legend, legend_height = _legend(list(series), fills, plot_top + plot_height + 30)
    return Chart(
        key,
        title,
        WIDTH,
        plot_top + plot_height + 30 + legend_height,
        tuple(bars),
        tuple(labels + legend),
        tuple(lines),
        tuple(swatches),
    )


def horizontal(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    key: str,
    title: str,
    *,
    unit: str = "",
    fills: Mapping[str, str] | None = None,
    value_text=None,
) -> Chart:
    """Horizontal bars: one group per category, one bar per series in it (p50/p95/p99 per
    command; outcomes; the funnel). None values are left out (no calls)."""
    fills = fills or colours(list(series))
    value_text = value_text or (lambda name, value: f"{_number(value)}{unit}")
    plot_left = LABEL_WIDTH
    plot_width = WIDTH - plot_left - 90  # room for the value at the bar's end
    values = [v for values in series.values() for v in values if v is not None]
    top_value = max(values, default=0) or 1
    group = len(series) * BAR_HEIGHT + GAP * 2
    bars, labels = [], []
    for index, category in enumerate(categories):
        top = index * group + GAP
        labels.append(Label(plot_left - 8, top + group / 2 - GAP + 4, category, "end"))
        for offset, (name, values_of) in enumerate(series.items()):
            value = values_of[index]
            if value is None:
                continue
            y = top + offset * BAR_HEIGHT
            width = max(1.0, plot_width * value / top_value)
            text = value_text(name, value)
            # Translators: a bar's tooltip on the dashboard: what it measures, then its value.
            tooltip = (_("{category}: {series} {value}", category=category, series=name,
                         value=text)
                       if len(series) > 1 else _("{category}: {value}", category=category,
                                                 value=text))  # fmt: skip
            bars.append(
                Bar(plot_left, y + 1, width, BAR_HEIGHT - 2, fills[name], name, category, value,
                    tooltip)
            )  # fmt: skip
            shown = f"{name} {text}" if len(series) > 1 else text
            labels.append(Label(plot_left + width + 6, y + BAR_HEIGHT - 5, shown, kind="value"))
    height: float = len(categories) * group + GAP
    swatches: list[Swatch] = []
    if len(series) > 1:
        swatches, legend, legend_height = _legend(list(series), fills, height + 8)
        labels += legend
        height += 8 + legend_height
    return Chart(
        key, title, WIDTH, max(height, 30), tuple(bars), tuple(labels), (), tuple(swatches)
    )

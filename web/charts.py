"""Rating charts drawn on the server: the geometry here, the SVG markup in a template.

One point per rated match, in the order the ratings were computed; x is the match's place in
that order (evenly spaced, so a busy day is not a blur), y the rating after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 24  # margins for the axis labels
TICKS = 4


class Point(Protocol):
    """What a chart needs of a rating (read-only, so frozen dataclasses fit)."""

    @property
    def match_id(self) -> int: ...
    @property
    def mmr(self) -> int: ...
    @property
    def change(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ChartPoint:
    x: float
    y: float
    match_id: int
    mmr: int
    change: int


@dataclass(frozen=True, slots=True)
class Chart:
    """An SVG chart's geometry: its points, the line through them and the y-axis ticks."""

    width: int
    height: int
    points: tuple[ChartPoint, ...]
    ticks: tuple[tuple[float, int], ...]  # (y, rating)
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    bottom_edge: int = HEIGHT - BOTTOM

    @property
    def line(self) -> str:
        """The `points` attribute of the polyline."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def rating_chart(points: Sequence[Point], width: int = WIDTH, height: int = HEIGHT) -> Chart:
    """Place each rated match's rating after it on a chart `width` × `height`."""
    if not points:
        return Chart(width, height, (), ())
    low = min(p.mmr for p in points)
    high = max(p.mmr for p in points)
    if high - low < 20:  # a flat line sits in the middle of a 20-point band
        low, high = (low + high) // 2 - 10, (low + high) // 2 + 10
    plot_w = width - LEFT - RIGHT
    plot_h = height - TOP - BOTTOM
    step = plot_w / (len(points) - 1) if len(points) > 1 else 0.0

    def y_of(mmr: float) -> float:
        return TOP + plot_h * (high - mmr) / (high - low)

    placed = tuple(
        ChartPoint(
            x=LEFT + (i * step if len(points) > 1 else plot_w / 2),
            y=y_of(p.mmr),
            match_id=p.match_id,
            mmr=p.mmr,
            change=p.change,
        )
        for i, p in enumerate(points)
    )
    ticks = tuple(
        (y_of(value), round(value))
        for value in (low + (high - low) * k / TICKS for k in range(TICKS + 1))
    )
    return Chart(width, height, placed, ticks, LEFT, width - RIGHT, height - BOTTOM)

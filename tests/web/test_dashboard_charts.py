"""The dashboard's chart layout: bars in proportion, stacked in order, inside their box."""

from __future__ import annotations

import pytest

from web.dashboard_charts import horizontal, nice_ceiling, stacked_days


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 4), (3, 4), (5, 8), (10, 10), (11, 20), (33, 40), (41, 80), (801, 1000)],
)
def test_the_axis_top_is_round(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_stacked_days_add_up_and_stay_in_the_plot():
    days = ["2026-03-01", "2026-03-02", "2026-03-03"]
    chart = stacked_days(days, {"queue": [3, 0, 10], "profile": [2, 5, 0]}, "calls", "Calls")
    assert [(b.series, b.category, b.value) for b in chart.bars] == [
        ("queue", "2026-03-01", 3),
        ("profile", "2026-03-01", 2),
        ("profile", "2026-03-02", 5),
        ("queue", "2026-03-03", 10),
    ]
    first_day = [b for b in chart.bars if b.category == "2026-03-01"]
    # Stacked: profile sits right on top of queue; heights in proportion to the counts.
    assert first_day[1].y + first_day[1].height == pytest.approx(first_day[0].y)
    assert first_day[0].height / first_day[1].height == pytest.approx(3 / 2)
    for bar in chart.bars:
        assert bar.y >= 0 and bar.y + bar.height <= chart.height
        assert bar.x + bar.width <= chart.width
    assert chart.bars[0].fill != chart.bars[1].fill


def test_horizontal_bars_leave_out_missing_values():
    chart = horizontal(
        ["setup", "help"], {"p50": [10.0, None], "p95": [40.0, 2.0]}, "latency", "Durations",
        unit=" ms",
    )  # fmt: skip
    assert [(b.category, b.series, b.value) for b in chart.bars] == [
        ("setup", "p50", 10.0),
        ("setup", "p95", 40.0),
        ("help", "p95", 2.0),
    ]
    longest = max(chart.bars, key=lambda b: b.value)
    assert chart.bars[0].width / longest.width == pytest.approx(10 / 40)
    assert "setup: p95 40 ms" in [b.title for b in chart.bars]


def test_no_data_is_an_empty_chart():
    assert stacked_days(["2026-03-01"], {}, "calls", "Calls").empty
    assert horizontal([], {"calls": []}, "outcomes", "Outcomes").empty

"""app.stats as a package: what bot.py, the dashboard and the benchmarks import stays there, and
the command line's choices are the renderers and tables that exist."""

from __future__ import annotations

from typing import Any

from app import stats
from app.stats import cli, render
from app.stats.report import StatsReport


def empty_report() -> StatsReport:
    return StatsReport(
        database="x", generated_at="2026-03-10 00:00:00.000", first_day="2026-03-10",
        last_day="2026-03-10", days=1, calls=0, players=0, commands=(), outcomes=(),
        slowest=(), per_day=(), funnel=(), seconds=0.0,
    )  # fmt: skip


def test_every_public_name_is_importable_from_app_stats() -> None:
    missing = [name for name in stats.__all__ if not hasattr(stats, name)]
    assert missing == []
    for name in ("collect", "open_readonly", "main", "period_bounds", "percentile_rank"):
        assert name in stats.__all__


def test_the_section_choices_are_the_tables_every_format_prints() -> None:
    assert tuple(s.key for s in render.sections(empty_report())) == render.SECTIONS
    choices: dict[str, Any] = {a.dest: a.choices for a in cli.build_parser()._actions}
    assert tuple(choices["section"]) == render.SECTIONS
    assert tuple(choices["format"]) == tuple(render.RENDERERS) == ("table", "csv", "json")

"""`python bot.py stats`: how the bot was used over the last N UTC days, from `command_calls`.

    python bot.py stats [--days 7] [--format table|csv|json] [--section NAME] [--db PATH]

Read-only and safe while the bot runs: the file is opened with `mode=ro` (nothing is ever
written), and every query runs in one read transaction, so the numbers are one consistent
snapshot. In WAL mode a reader never blocks the bot's writer.

The period is the last `--days` whole UTC calendar days, today included (`--days 1` is today so
far). The report: calls and distinct players per command, the outcome mix, nearest-rank duration
percentiles per command, the slowest calls, calls and players per day, and the onboarding funnel
of the users whose first command ever falls in the period.

The package: `report` (the report's records), `queries` (the SQL, in one read transaction, and
how it stays fast on a large table), `percentiles` (nearest rank, from brackets around a
sample), `render` (table, CSV, JSON) and `cli` (arguments, main). What the bot, the dashboard,
the tests and the benchmarks use is importable from here.
"""

from app.stats.cli import build_parser, main
from app.stats.percentiles import PERCENTILES, percentile_rank
from app.stats.queries import (
    MIN_SCHEMA_VERSION,
    QUEUE_COMMANDS,
    collect,
    open_readonly,
    schema_version,
)
from app.stats.render import (
    FORMATS,
    RENDERERS,
    SECTIONS,
    Section,
    render_csv,
    render_json,
    render_table,
    report_dict,
    sections,
)
from app.stats.report import (
    DAY_MS,
    FUNNEL_STEPS,
    MAX_DAYS,
    SLOWEST_CALLS,
    CommandStats,
    DayStats,
    FunnelStep,
    OutcomeStats,
    SlowCall,
    StatsError,
    StatsReport,
    period_bounds,
)

__all__ = [
    "DAY_MS",
    "FORMATS",
    "FUNNEL_STEPS",
    "MAX_DAYS",
    "MIN_SCHEMA_VERSION",
    "PERCENTILES",
    "QUEUE_COMMANDS",
    "RENDERERS",
    "SECTIONS",
    "SLOWEST_CALLS",
    "CommandStats",
    "DayStats",
    "FunnelStep",
    "OutcomeStats",
    "Section",
    "SlowCall",
    "StatsError",
    "StatsReport",
    "build_parser",
    "collect",
    "main",
    "open_readonly",
    "percentile_rank",
    "period_bounds",
    "render_csv",
    "render_json",
    "render_table",
    "report_dict",
    "schema_version",
    "sections",
]

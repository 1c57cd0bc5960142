"""The report as text: aligned tables for a terminal, CSV, or JSON, from the same tables."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.stats.report import SLOWEST_CALLS, StatsReport

SECTIONS = ("commands", "latency", "outcomes", "slowest", "days", "replays", "funnel")

Kind = str  # 'text' | 'int' | 'ms' | 'share' | 'id'


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # for --section and as the JSON key
    title: str
    columns: tuple[tuple[str, str, Kind], ...]  # (key, header, kind)
    rows: tuple[tuple[Any, ...], ...]


def sections(report: StatsReport) -> list[Section]:
    """The report as tables: the same ones for every format."""
    by_p95 = sorted(report.commands, key=lambda c: (-(c.p95_ms or 0.0), c.command))
    return [
        Section(
            "commands",
            "Calls by command",
            (
                ("command", "command", "text"),
                ("calls", "calls", "int"),
                ("players", "players", "int"),
                ("ok", "ok", "int"),
                ("refused", "refused", "int"),
                ("rejected", "rejected", "int"),
                ("errors", "errors", "int"),
                ("cancelled", "cancelled", "int"),
            ),
            tuple(
                (c.command, c.calls, c.players, c.ok, c.refused, c.rejected, c.errors, c.cancelled)
                for c in report.commands
            ),
        ),
        Section(
            "latency",
            "Duration by command, ms (nearest rank), slowest p95 first",
            (
                ("command", "command", "text"),
                ("calls", "calls", "int"),
                ("p50_ms", "p50", "ms"),
                ("p95_ms", "p95", "ms"),
                ("p99_ms", "p99", "ms"),
                ("max_ms", "max", "ms"),
            ),
            tuple((c.command, c.calls, c.p50_ms, c.p95_ms, c.p99_ms, c.max_ms) for c in by_p95),
        ),
        Section(
            "outcomes",
            "Outcomes",
            (
                ("outcome", "outcome", "text"),
                ("calls", "calls", "int"),
                ("share", "share", "share"),
            ),
            tuple((o.outcome, o.calls, o.share) for o in report.outcomes),
        ),
        Section(
            "slowest",
            f"Slowest {SLOWEST_CALLS} calls",
            (
                ("called_at", "called at (UTC)", "text"),
                ("command", "command", "text"),
                ("discord_uid", "user id", "id"),
                ("player_name", "player", "text"),
                ("outcome", "outcome", "text"),
                ("duration_ms", "ms", "ms"),
            ),
            tuple(
                (s.called_at, s.command, s.discord_uid, s.player_name, s.outcome, s.duration_ms)
                for s in report.slowest
            ),
        ),
        Section(
            "days",
            "Calls per day (UTC)",
            (
                ("day", "day", "text"),
                ("calls", "calls", "int"),
                ("players", "players", "int"),
                ("ok", "ok", "int"),
                ("refused", "refused", "int"),
                ("rejected", "rejected", "int"),
                ("errors", "errors", "int"),
                ("cancelled", "cancelled", "int"),
            ),
            tuple(
                (d.day, d.calls, d.players, d.ok, d.refused, d.rejected, d.errors, d.cancelled)
                for d in report.per_day
            ),
        ),
        Section(
            "replays",
            "Replays uploaded: verified, the reason a stored one was refused, or rejected"
            " before storing (unreadable, duplicate, too big)",
            (
                ("verdict", "verdict", "text"),
                ("uploads", "uploads", "int"),
                ("share", "share", "share"),
            ),
            tuple((r.verdict, r.uploads, r.share) for r in report.replays),
        ),
        Section(
            "funnel",
            "Onboarding funnel: users whose first command was in the period, furthest step so far",
            (
                ("step", "step", "text"),
                ("users", "users", "int"),
                ("of_first", "of first", "share"),
                ("of_previous", "of previous", "share"),
            ),
            tuple((f.step, f.users, f.of_first, f.of_previous) for f in report.funnel),
        ),
    ]


def _cell(value: Any, kind: Kind) -> str:
    if value is None:
        return "—"
    if kind == "int":
        return f"{value:,}"
    if kind == "ms":
        return f"{value:,.1f}"
    if kind == "share":
        return f"{value:.1%}"
    return str(value)


def _line(values: Sequence[str], widths: Sequence[int], numeric: Sequence[bool]) -> str:
    """One table line: numbers right-aligned, text left-aligned, two spaces apart."""
    parts = (
        v.rjust(w) if right else v.ljust(w)
        for v, w, right in zip(values, widths, numeric, strict=True)
    )
    return "  ".join(parts).rstrip()


def render_table(report: StatsReport, only: str | None = None) -> str:
    """Aligned text tables for a terminal."""
    out = []
    if only is None:
        out.append(f"ladderbot stats · {report.database}")
        out.append(
            f"{report.first_day} → {report.last_day} ({report.days} UTC "
            f"day{'s' if report.days != 1 else ''}, today included) · {report.calls:,} calls "
            f"· {report.players:,} players · queried in {report.seconds:.2f} s"
        )
    for section in sections(report):
        if only is not None and section.key != only:
            continue
        if out:
            out.append("")
        out.append(section.title)
        if not section.rows:
            out.append("  (none)")
            continue
        cells = [
            [_cell(v, kind) for v, (_, _, kind) in zip(row, section.columns, strict=True)]
            for row in section.rows
        ]
        headers = [header for _, header, _ in section.columns]
        widths = [max(len(headers[i]), *(len(r[i]) for r in cells)) for i in range(len(headers))]
        numeric = [kind in ("int", "ms", "share") for _, _, kind in section.columns]

        out.append(_line(headers, widths, numeric))
        out.append(_line(["-" * w for w in widths], widths, numeric))
        out.extend(_line(r, widths, numeric) for r in cells)
    return "\n".join(out) + "\n"


def _raw(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind == "share":
        return round(value, 4)
    if kind == "ms":
        return round(value, 3)
    return value


def render_csv(report: StatsReport, only: str | None = None) -> str:
    """CSV: with --section, one plain table; otherwise each table under a '# key' line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    first = True
    for section in sections(report):
        if only is not None and section.key != only:
            continue
        if only is None:
            if not first:
                buffer.write("\n")
            buffer.write(f"# {section.key}\n")
        first = False
        writer.writerow([key for key, _, _ in section.columns])
        for row in section.rows:
            writer.writerow(
                [
                    "" if v is None else _raw(v, kind)
                    for v, (_, _, kind) in zip(row, section.columns, strict=True)
                ]
            )
    return buffer.getvalue()


def report_dict(report: StatsReport, only: str | None = None) -> dict[str, Any]:
    """The report as JSON-ready data: period, totals, then one list of objects per table."""
    data: dict[str, Any] = {}
    if only is None:
        data["database"] = report.database
        data["generated_at"] = report.generated_at
        data["period"] = {
            "first_day": report.first_day,
            "last_day": report.last_day,
            "days": report.days,
        }
        data["totals"] = {"calls": report.calls, "players": report.players}
        data["query_seconds"] = round(report.seconds, 3)
    for section in sections(report):
        if only is not None and section.key != only:
            continue
        data[section.key] = [
            {key: _raw(v, kind) for v, (key, _, kind) in zip(row, section.columns, strict=True)}
            for row in section.rows
        ]
    return data


def render_json(report: StatsReport, only: str | None = None) -> str:
    return json.dumps(report_dict(report, only), indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[StatsReport, str | None], str]] = {
    "table": render_table,
    "csv": render_csv,
    "json": render_json,
}
FORMATS = tuple(RENDERERS)

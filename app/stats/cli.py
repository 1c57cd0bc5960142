"""`python bot.py stats`'s arguments and its main: open the file read-only, collect, print."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from app.stats.queries import collect, open_readonly
from app.stats.render import FORMATS, RENDERERS, SECTIONS
from app.stats.report import MAX_DAYS, StatsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot.py stats",
        description="How the bot was used over the last N UTC days (read-only; safe while the "
        "bot runs).",
    )
    parser.add_argument(
        "--days", type=int, default=7, help="the last N UTC days, today included (default 7)"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    parser.add_argument(
        "--section", choices=SECTIONS, help="print only this table (plain CSV with --format csv)"
    )
    parser.add_argument("--db", type=Path, help="the SQLite file (default: DATABASE_PATH)")
    return parser


def main(
    argv: Sequence[str],
    db_path: Path,
    *,
    out: TextIO | None = None,
    now: datetime | None = None,
) -> int:
    """Run `stats` with these arguments; print the report; return the exit status."""
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    path = args.db or Path(db_path)
    if not 1 <= args.days <= MAX_DAYS:
        print(f"ladderbot stats: --days must be from 1 to {MAX_DAYS}", file=sys.stderr)
        return 2
    try:
        conn = open_readonly(path)
        try:
            report = collect(conn, days=args.days, now=now, database=str(path))
        finally:
            conn.close()
    except StatsError as exc:
        print(f"ladderbot stats: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"ladderbot stats: cannot read {path}: {exc}", file=sys.stderr)
        return 1
    try:
        out.write(RENDERERS[args.format](report, args.section))
        out.flush()
    except BrokenPipeError:  # `stats | head`: the reader has what it wanted
        if out is sys.stdout:  # keep Python from failing again when it flushes at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0

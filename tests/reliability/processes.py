"""Running flood_driver.py (bot.serve() with a flooding stand-in client) as a child process,
and reading what it left behind: its counters, its record() log and the database (the SQLite
file, or the PostgreSQL database of `--database-url`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg

from tests.reliability.fakes import read_records

DRIVER = Path(__file__).with_name("flood_driver.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


class FloodProcess:
    """One run of the driver: `start()`, watch `progress()`, then `stop(sig)` or `kill()`."""

    def __init__(
        self,
        db: Path,
        out: Path,
        *,
        commands: int = 0,
        workers: int = 50,
        seed: int = 1,
        extra: tuple[str, ...] = (),
        database_url: str | None = None,
    ) -> None:
        self.db = db
        self.database_url = database_url
        self.out = out
        self.args = [
            sys.executable, str(DRIVER), "--db", str(db), "--out", str(out),
            "--commands", str(commands), "--workers", str(workers), "--seed", str(seed), *extra,
        ]  # fmt: skip
        if database_url is not None:
            self.args += ["--database-url", database_url]
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = out / "driver.log"

    def start(self) -> FloodProcess:
        self.out.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.args, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def progress(self) -> dict[str, Any] | None:
        """The last counters the driver wrote, if it wrote any yet."""
        with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
            return json.loads((self.out / "progress.json").read_text(encoding="utf-8"))
        return None

    def wait_for(
        self, check: Callable[[dict[str, Any]], bool], what: str, within: float = 60.0
    ) -> dict[str, Any]:
        """Poll progress.json until `check` holds; fail if the driver exits first."""
        assert self.proc is not None
        limit = time.monotonic() + within
        while time.monotonic() < limit:
            progress = self.progress()
            if progress is not None and progress["pid"] == self.pid and check(progress):
                return progress
            if self.proc.poll() is not None:
                raise AssertionError(f"the driver exited ({self.proc.returncode}) before {what}:"
                                     f"\n{self.log_tail()}")  # fmt: skip
            time.sleep(0.005)
        raise AssertionError(f"timed out after {within}s waiting for {what}:\n{self.log_tail()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM, within: float = 60.0) -> int:
        """Send `sig` and wait for the exit; returns the exit status."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(within)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the driver did not exit within {within}s of {sig.name}:\n"
                                 f"{self.log_tail()}") from None  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: nothing runs after it, no handler, no drain, no close."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def report(self) -> dict[str, Any]:
        return json.loads((self.out / "report.json").read_text(encoding="utf-8"))

    def records(self) -> list[tuple[int, bool]]:
        return read_records(self.out / "records.bin")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_text()[-chars:]


def logged_ids(db: Path | str) -> list[int]:
    """Every interaction id in command_calls (duplicates kept), read like a second process:
    from the SQLite file `db`, or the PostgreSQL database when `db` is a postgresql:// URL."""
    if isinstance(db, str):
        return asyncio.run(_pg_logged_ids(db))
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        return [row[0] for row in conn.execute("SELECT interaction_id FROM command_calls")]


async def _pg_logged_ids(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        return [row[0] for row in await conn.fetch("SELECT interaction_id FROM command_calls")]
    finally:
        await conn.close()


def integrity(db: Path) -> tuple[str, list[tuple]]:
    """PRAGMA integrity_check and foreign_key_check, on a fresh connection (recovers a WAL)."""
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        check = "\n".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
        keys = conn.execute("PRAGMA foreign_key_check").fetchall()
    return check, keys


def torn_player_writes(db: Path) -> list[tuple]:
    """Players whose row disagrees with the last change logged for it (written in one
    transaction by PlayerRepository, so a crash must leave both or neither)."""
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        return conn.execute(
            """
            WITH last AS (
                SELECT discord_uid, setting, new_value FROM player_action_logs
                WHERE id IN (SELECT max(id) FROM player_action_logs GROUP BY discord_uid, setting)
            )
            SELECT p.discord_uid, last.setting, last.new_value, p.country, p.accepted_tos
            FROM last JOIN players p USING (discord_uid)
            WHERE (last.setting = 'country' AND last.new_value IS NOT p.country)
               OR (last.setting = 'accepted_tos'
                   AND last.new_value <> CASE p.accepted_tos WHEN 1 THEN 'yes' ELSE 'no' END)
            UNION ALL
            SELECT p.discord_uid, 'country', NULL, p.country, p.accepted_tos FROM players p
            WHERE p.country IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM player_action_logs l
                WHERE l.discord_uid = p.discord_uid AND l.setting = 'country')
            """
        ).fetchall()

"""The PostgreSQL server stopped and started again under load: commands are still answered, and
the command-log rows queued while it was down land once it is back.

The flood runs in a separate process (flood_driver.py on DATABASE_URL: `bot.serve()` itself,
with the asyncpg pool, the COPY command log writer, the cache listener and the leader lock),
against a server of this test's own, so that stopping it disturbs no other test. While the flood
runs, the server is stopped (`pg_ctl stop -m fast`: every session is ended, as on a crash or a
restart by an operator), left down until the bot has felt it, and started again on the same
data and port. Then the bot is stopped with SIGTERM and what it left is compared with what was
recorded.

While the server is down a command that needs the database cannot be served; what the player
must get is an answer within Discord's window (never silence, never two answers), and the
"database busy, try again" message rather than the apology for a bug.
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.processes import FloodProcess, logged_ids
from tests.support.backends import postgres_databases
from tests.support.postgres import PostgresServer, start_server

pytestmark = pytest.mark.e2e

WORKERS = 20
DOWN_AT_LEAST = 1.0  # seconds the server stays down, at least (and until the bot felt it)


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A server of this module's own: stopping it must not disturb the session's."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def pg_ctl(server: PostgresServer, *args: str) -> None:
    done = subprocess.run(
        [*server.user_prefix, server.pg_ctl, *args, "-D", str(server.data_dir)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"pg_ctl {args[0]} failed:\n{done.stdout}\n{done.stderr}"


def stop_server(server: PostgresServer) -> str:
    """Stop the server (fast: sessions are ended); return the options it was started with."""
    # postmaster.opts: the server's command line at its last start (what `pg_ctl restart` reuses)
    argv = shlex.split((server.data_dir / "postmaster.opts").read_text())
    options = [arg for arg in argv[1:] if arg not in ("-D", str(server.data_dir))]
    pg_ctl(server, "stop", "-w", "-m", "fast")
    return shlex.join(options)


def start_again(server: PostgresServer, options: str) -> None:
    pg_ctl(server, "start", "-w", "-t", "60", "-l", str(server.root / "server.log"), "-o", options)


def test_commands_are_answered_while_the_server_restarts_and_queued_rows_land_after(
    own_server: PostgresServer, tmp_path: Path
) -> None:
    url = asyncio.run(postgres_databases(own_server).new_url())
    flood = FloodProcess(
        tmp_path / "ladder.db", tmp_path / "out", workers=WORKERS, database_url=url
    ).start()
    try:
        before = flood.wait_for(
            lambda p: p["writer_written"] >= 1_000, "1,000 rows written before the restart"
        )
        options = stop_server(own_server)
        down_at = time.monotonic()
        try:
            # Down until the bot felt it: writes failed and commands kept being answered.
            during = flood.wait_for(
                lambda p: (
                    p["writer_failed_batches"] > before["writer_failed_batches"]
                    and p["finished"] >= before["finished"] + 500
                    and time.monotonic() - down_at >= DOWN_AT_LEAST
                ),
                "failed writes and 500 commands answered while the server is down",
            )
        finally:
            start_again(own_server, options)
        up_at = time.monotonic()
        # Back: everything queued meanwhile lands (the writer retries with backoff), and
        # commands are served normally again.
        after = flood.wait_for(
            lambda p: (
                p["writer_written"] > during["writer_written"] + 1_000
                and p["writer_queue_depth"] < 1_000
            ),
            "the rows queued during the outage written after it",
        )
        status = flood.stop(signal.SIGTERM)
    finally:
        flood.kill()
    report, records, log = flood.report(), flood.records(), flood.log_text()
    logged = logged_ids(url)
    print(
        f"\ndown {up_at - down_at:.1f} s: {during['finished'] - before['finished']:,} commands "
        f"answered meanwhile ({during['busy'] - before['busy']:,} 'busy', "
        f"{during['apologies'] - before['apologies']:,} apologies), "
        f"{during['writer_queue_depth']:,} rows queued, "
        f"{during['writer_failed_batches'] - before['writer_failed_batches']} failed batches; "
        f"queue back under 1,000 {after['time'] - during['time']:.1f} s after; "
        f"{report['recorded']:,} recorded, {len(logged):,} rows in command_calls"
    )

    assert status == 0, log[-4000:]
    assert "Stopped cleanly" in log
    # Every command was answered exactly once, the outage's included.
    assert (report["unanswered"], report["answered_twice"], report["unfinished"]) == (0, 0, 0)
    assert report["started"] == report["finished"] == report["recorded"]
    # ... and none with the apology for a bug (but /boom's, the flood's deliberate bug).
    assert report["apologies"] == 0, log[-4000:]
    # Every recorded command is in command_calls, once.
    recorded = [i for i, _ in records]
    assert all(accepted for _, accepted in records), "the writer dropped rows"
    duplicates = [i for i, n in Counter(logged).items() if n > 1]
    assert not duplicates, f"{len(duplicates)} rows written twice"
    missing = set(recorded) - set(logged)
    assert not missing, f"{len(missing)} recorded commands are not in command_calls"
    assert set(logged) == set(recorded)
    assert (report["writer_lost"], report["writer_dropped"], report["writer_queue_depth"]) == (
        0,
        0,
        0,
    )

"""A throw-away PostgreSQL server for the benchmarks, durable like a production one.

It is the tests' server (tests/support/postgres.py: temporary cluster, free loopback port,
stopped at exit), restarted without the tests' shortcuts: the tests run with fsync,
synchronous_commit and full_page_writes off, which makes every commit nearly free and would
flatter PostgreSQL against SQLite (whose bot connection runs WAL with synchronous=NORMAL).
Here the server keeps PostgreSQL's defaults for all three, so a commit waits for its WAL flush
unless a session turns synchronous_commit off itself.

    from bench.pg_server import bench_server
    server = bench_server()          # durable; bench_server(durable=False) = the tests' server
    url = server.url("postgres")
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.postgres import PostgresServer, start_server

# The tests' options minus fsync/synchronous_commit/full_page_writes = off (PostgreSQL's
# defaults, on, apply), plus room for a bench's COPY batches between checkpoints.
DURABLE_OPTIONS = (
    "-k {sockets} -c listen_addresses=127.0.0.1 -p {port} -c max_connections=200"
    " -c max_wal_size=2GB"
)


def bench_server(*, durable: bool = True) -> PostgresServer:
    """Start a throw-away server; durable (the defaults) unless asked for the tests' settings."""
    server = start_server()
    if not durable:
        return server
    options = DURABLE_OPTIONS.format(sockets=server.root / "sock", port=server.port)
    try:
        subprocess.run(
            [
                *server.user_prefix,
                server.pg_ctl,
                "restart",
                "-w",
                "-t",
                "60",
                "-m",
                "fast",
                "-D",
                str(server.data_dir),
                "-l",
                str(server.root / "server.log"),
                "-o",
                options,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    except BaseException:
        server.stop()
        raise
    return server


async def server_settings(url: str) -> str:
    """The settings that decide what a commit costs, as one line for a bench's header."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        names = (
            "server_version",
            "fsync",
            "synchronous_commit",
            "full_page_writes",
            "wal_level",
            "shared_buffers",
            "max_wal_size",
        )
        values = [await conn.fetchval(f"SHOW {name}") for name in names]
    finally:
        await conn.close()
    return ", ".join(f"{name}={value}" for name, value in zip(names, values, strict=True))

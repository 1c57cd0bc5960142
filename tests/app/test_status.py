"""`/admin status`: the pure report, its embed lines, and collecting it from a real database."""

from datetime import UTC, datetime, timedelta

import pytest

from app import status
from cache.players import CacheStats, PlayerCache
from ladder.config import DEFAULT_RANK_SHARES
from ladder.standings import Standings
from services.leaderboard import LeaderboardService
from storage.command_log import CommandLogStats, CommandLogWriter
from storage.database import Database, epoch_ms
from storage.leaderboard import LeaderboardRepository

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LOG = CommandLogStats(
    enqueued=120,
    written=100,
    dropped=2,
    rejected=1,
    lost=0,
    failed_batches=3,
    queue_depth=19,
    last_batch_ms=4.2,
    last_error=None,
)
CACHE = CacheStats(hits=90, misses=10, size=42, invalidations=5)


def build(**overrides):
    values = {
        "now": NOW,
        "started_at": NOW - timedelta(days=2, hours=3, minutes=4, seconds=5),
        "gateway_latency": 0.0421,
        "commands_last_hour": 1234,
        "p95_ms_last_hour": 180.4,
        "command_log": LOG,
        "player_cache": CACHE,
        "database_bytes": 12_345_678,
        "wal_bytes": 4_096,
    }
    return status.build_status(**{**values, **overrides})


def test_build_status():
    report = build()
    assert report.uptime_seconds == 2 * 86_400 + 3 * 3_600 + 4 * 60 + 5
    assert report.gateway_latency_ms == pytest.approx(42.1)
    assert report.started_at == "2026-03-08 08:55:55.000"
    assert report.cache_hit_rate == 0.9
    assert report.command_log is LOG


@pytest.mark.parametrize("latency", [None, float("nan"), float("inf"), -1.0])
def test_an_unknown_gateway_latency(latency):
    report = build(gateway_latency=latency)
    assert report.gateway_latency_ms is None
    assert dict(status.render_lines(report))["Gateway latency"] == "not measured yet"


def test_render_lines():
    lines = status.render_lines(build())
    assert lines == [
        ("Uptime", "2 d 3 h 4 min (since 2026-03-08 08:55 UTC)"),
        ("Gateway latency", "42 ms"),
        ("Commands, last hour", "1,234 · p95 180 ms"),
        (
            "Command log",
            "120 enqueued · 100 written · 19 queued · 2 dropped · 1 rejected · 3 failed batches",
        ),
        ("Player cache", "90.0% hits (90 of 100) · 42 cached"),
        ("Profile cache", "off (PostgreSQL: every /profile reads)"),
        ("Database", "12.3 MB + WAL 4.1 kB"),
    ]
    kept = dict(status.render_lines(build(profile_cache=CacheStats(75, 25, 7, 3))))
    assert kept["Profile cache"] == "75.0% hits (75 of 100) · 7 cached"


def test_render_lines_quiet_hour_and_a_long_error():
    log = CommandLogStats(0, 0, 0, 0, 0, 7, 0, None, "OperationalError: " + "x" * 2000)
    lines = dict(status.render_lines(build(commands_last_hour=0, command_log=log)))
    assert lines["Commands, last hour"] == "none"
    error = lines["Command log: last error"]
    assert len(error) == status.EMBED_VALUE_LIMIT and error.endswith("…")
    assert dict(status.render_lines(build()))["Gateway latency"] == "42 ms"
    assert "Command log: last error" not in dict(status.render_lines(build()))


def test_formatting_helpers():
    assert status.format_duration(42.9) == "42 s"
    assert status.format_duration(303) == "5 min 3 s"
    assert status.format_duration(3 * 3600 + 240) == "3 h 4 min"
    assert status.format_bytes(512) == "512 B"
    assert status.format_bytes(999_999) == "1000.0 kB"
    assert status.format_bytes(1_000_000) == "1.0 MB"
    assert status.format_bytes(3_500_000_000_000) == "3500.0 GB"


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "ladder.db")
    yield database
    await database.close()


async def test_collect_status_from_a_real_database(db):
    def at(**ago):
        return epoch_ms(NOW - timedelta(**ago))

    # 20 calls in the last hour with durations 1..20 (p95 = rank 19), 2 older ones.
    calls = [(at(minutes=m), float(m)) for m in range(1, 21)]
    calls += [(at(minutes=61), 500.0), (at(days=1), 900.0)]
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO command_calls (called_ms, discord_uid, command, duration_ms, outcome)"
            " VALUES (?, 1, 'queue', ?, 'ok')",
            calls,
        )
    cache = PlayerCache()
    cache.get(1)
    cache.put(1, None, cache.generation)
    cache.get(1)
    writer = CommandLogWriter(db)
    report = await status.collect_status(
        writer, cache, db.path, NOW - timedelta(minutes=5), 0.05, now=NOW
    )
    assert report.commands_last_hour == 20
    assert report.p95_ms_last_hour == 19.0
    assert report.uptime_seconds == 300
    assert report.gateway_latency_ms == pytest.approx(50.0)
    assert report.player_cache == CacheStats(hits=1, misses=1, size=1, invalidations=0)
    assert report.command_log == writer.stats()
    assert report.database_bytes == db.path.stat().st_size > 0
    assert report.wal_bytes > 0  # the insert above is in the WAL
    names = [name for name, _ in status.render_lines(report)]
    assert names[:3] == ["Uptime", "Gateway latency", "Commands, last hour"]


async def test_collect_status_counts_what_the_writer_wrote(db):
    writer = CommandLogWriter(db)
    writer.start()
    for uid in range(3):
        writer.record(None, uid, None, "profile", None, 12.0, "ok")  # called_at: now
    await writer.close()
    report = await status.collect_status(
        writer, PlayerCache(), db.path, datetime.now(UTC), float("nan")
    )
    assert report.command_log.written == 3
    assert report.commands_last_hour == 3
    assert report.p95_ms_last_hour == 12.0


async def test_collect_status_on_an_empty_database(db):
    report = await status.collect_status(
        CommandLogWriter(db), PlayerCache(), db.path, NOW, None, now=NOW
    )
    assert report.commands_last_hour == 0
    assert report.p95_ms_last_hour is None
    assert report.uptime_seconds == 0


async def test_the_profile_cache_is_shown_where_profiles_are_kept(db):
    repository = LeaderboardRepository(db)
    service = LeaderboardService(repository, Standings((), DEFAULT_RANK_SHARES, 14, NOW))
    assert service.profile_cache is None  # not following the writes: nothing is kept
    await repository.follow_changes()
    assert service.profile_cache is repository.cache
    for _ in range(3):
        await service.profile(7, NOW)
    report = await status.collect_status(
        CommandLogWriter(db), PlayerCache(), db.path, NOW, None,
        profile_cache=service.profile_cache, now=NOW,
    )  # fmt: skip
    assert dict(status.render_lines(report))["Profile cache"] == "66.7% hits (2 of 3) · 1 cached"

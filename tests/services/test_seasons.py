"""Seasons and rating systems through the real services on a real SQLite file: Glicko-2
ratings equal their replay, a season change with players queued and a match in progress,
a ruling on a past season's match, a failed season change, random action sequences, and
`bot.py ratings replay` (a dry run changes nothing, a real run equals a fresh replay, it
refuses while a bot runs: its file lock on SQLite, its leader election on PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import ratings_cli
from app.running import RunningLock
from ladder.config import LadderConfig, RatingConfig, SeasonConfig
from ladder.errors import LadderError, ValidationError
from ladder.seasons import ArchivedEntry, final_standings
from ladder.standings import to_micros
from storage.leader import LEADER_LOCK_KEY, Leadership
from storage.postgres import PostgresDatabase
from storage.seasons import SeasonRepository

from .conftest import CONFIG, Clock, SeasonLadder

GLICKO = replace(CONFIG, rating=RatingConfig(system="glicko2"))
SHARES = CONFIG.ranks.shares


async def _open(tmp_path: Path, clock: Clock, config: LadderConfig) -> SeasonLadder:
    lad = SeasonLadder(tmp_path / "ladder.db", clock, config)
    await lad.open()
    await lad.add_players(1, 2, 3, 4)
    return lad


async def test_glicko2_ratings_are_their_replay(tmp_path: Path, clock: Clock) -> None:
    lad = await _open(tmp_path, clock, GLICKO)
    try:
        await lad.play(1, 2, 1)
        clock.advance(days=3)
        await lad.play(1, 3, 3)
        await lad.play(2, 4, None)
        rows = await lad.rows("SELECT mmr, rating, deviation, volatility FROM ratings")
        assert all(r[2] is not None and r[2] < 350 for r in rows)
        await lad.assert_replays()
        # A ruling replays the season under Glicko-2 too.
        first = (await lad.rows("SELECT id FROM matches ORDER BY id"))[0][0]
        await lad.service.admin.resolve_match(99, first, "p2_win", "typo")
        await lad.assert_replays()
    finally:
        await lad.close()


@pytest.mark.parametrize("mode", ["keep", "reset", "pull"])
async def test_season_change_with_queue_and_match_in_progress(
    tmp_path: Path, clock: Clock, mode: str
) -> None:
    config = replace(CONFIG, season=SeasonConfig(soft_reset=mode, pull_fraction=0.5))
    lad = await _open(tmp_path, clock, config)
    try:
        await lad.play(1, 2, 1)
        await lad.play(1, 2, 1)
        open_match = await lad.match_between(3, 4)  # confirmed, being played
        await lad.service.queue.join_queue(2, ["bw_terran"], [])
        clock.advance(minutes=1)
        started = await lad.seasons.start(42, "  Spring  ")
        assert (started.ended.number, started.started.number) == (1, 2)
        assert started.started.name == "Spring" and started.open_matches == 1
        archive = await lad.seasons.archive(1)
        top = archive[0]
        assert (top.uid, top.place, top.rank, top.record.wins) == (1, 1, "S", 2)
        assert [q.uid for q in await lad.queue()] == [2]  # still queued
        after = {
            (r[0]): r[1:]
            for r in await lad.rows(
                "SELECT discord_uid, mmr, games FROM ratings WHERE race = 'bw_terran'"
            )
        }
        expected = {"keep": 1538, "reset": 1500, "pull": 1519}[mode]
        assert after[1] == (expected, 0)
        # The match of season 1 ends now: it corrects season 1's archive.
        await lad.service.matches.report(open_match.id, 3, "win")
        await lad.service.matches.report(open_match.id, 4, "loss")
        by_uid = {e.uid: e for e in await lad.seasons.archive(1)}
        assert by_uid[3].mmr == 1520 and by_uid[3].record.wins == 1
        current = {
            r[0]: r[1:]
            for r in await lad.rows(
                "SELECT discord_uid, mmr, games FROM ratings WHERE race = 'bw_terran'"
            )
        }
        # The current season's games are untouched; its starting ratings follow the reset.
        assert current[3] == ({"keep": 1520, "reset": 1500, "pull": 1510}[mode], 0)
        assert current[1] == after[1]
        await lad.assert_replays()
        # A ruling on the old match later: the archive changes again, and so does season 2.
        await lad.service.admin.resolve_match(7, open_match.id, "p2_win", "wrong report")
        by_uid = {e.uid: e for e in await lad.seasons.archive(1)}
        assert by_uid[4].mmr == 1520 and by_uid[3].mmr == 1480
        ruled = {
            r[0]: r[1:]
            for r in await lad.rows(
                "SELECT discord_uid, mmr, games FROM ratings WHERE race = 'bw_terran'"
            )
        }
        # Season 2 starts from the corrected archive: how far depends on the soft reset.
        assert ruled[3] == ({"keep": 1480, "reset": 1500, "pull": 1490}[mode], 0)
        assert ruled[4] == ({"keep": 1520, "reset": 1500, "pull": 1510}[mode], 0)
        assert ruled[1] == after[1]
        await lad.assert_replays()
        # Season 2 plays on, and a second change archives it.
        await lad.service.queue.leave_queue(2)
        await lad.play(1, 3, 3)
        clock.advance(minutes=1)
        await lad.seasons.start(42, "Summer")
        await lad.assert_replays()
        status = await lad.seasons.status()
        assert status.season.number == 3 and [s.number for s in status.ended] == [1, 2]
    finally:
        await lad.close()


@pytest.mark.parametrize("system", ["elo", "glicko2"])
@pytest.mark.parametrize("mode", ["keep", "reset", "pull"])
async def test_the_archive_is_the_final_standings(
    tmp_path: Path, clock: Clock, system: str, mode: str
) -> None:
    """The season change copies the archive in SQL and joins places by rating; it must be
    what `final_standings` makes of the same ratings: ties share a place and a letter, a
    banned player and an entry without a game this season are unranked, provisional flags
    are as the system says at the moment of the change."""
    rating = RatingConfig(system=system, provisional_games=2)
    config = replace(CONFIG, rating=rating, season=SeasonConfig(mode, 0.25))
    lad = await _open(tmp_path, clock, config)
    await lad.add_players(5, 6)
    try:
        await lad.play(1, 2, 1)  # 1 and 3 tie, and so do 2 and 4 (under Elo)
        await lad.play(3, 4, 3)
        await lad.play(1, 5, 1)
        await lad.play(6, 2, None, race="bw_zerg")  # a second race
        await lad.service.admin.ban(9, 4, "cheating")
        clock.advance(days=3)
        await lad.play(5, 6, 6, race="bw_zerg")
        await lad.seasons.start(9, "Two")  # season 1's ratings become the start of season 2
        clock.advance(days=1)
        await lad.play(3, 5, 5)  # 2 keeps a rating but has no game in season 2
        await lad.play(3, 5, 3)
        await lad.play(1, 6, None)
        repo, core = SeasonRepository(), lad.service.core
        system_ = core.ledger.system
        states = await repo.states(core.reader, system_)
        records = await repo.records(core.reader, 2)
        banned = await repo.banned(core.reader)
        now = clock.advance(minutes=5)
        started = await lad.seasons.start(9, "Three")
        want = final_standings(system_, states, records, banned, to_micros(now), shares=SHARES)
        got = await lad.seasons.archive(2)

        def seen(e: ArchivedEntry) -> tuple:  # a record's last game: that of any season
            r = e.record
            return (e.key, e.state, (r.games, r.wins, r.losses, r.draws), e.place, e.rank,
                    e.provisional)  # fmt: skip

        assert [seen(e) for e in got] == [seen(e) for e in want]
        if system == "elo":  # provisional for 2 games: 1 and 6 are, 3 and 5 are not
            assert {e.uid for e in want if e.place and e.provisional} == {1, 6}
        assert started.archived == len(want) == 9
        assert started.ranked == sum(e.place is not None for e in want) == 4
        ranked = [e for e in await lad.seasons.archive(1) if e.place is not None]
        places = sorted((e.place, e.rank, e.mmr) for e in ranked)
        assert len({(p, r) for p, r, _ in places}) < len(places) or system == "glicko2"  # ties
        assert 4 not in {e.uid for e in ranked}
        await lad.assert_replays()
    finally:
        await lad.close()


async def test_bad_season_names_change_nothing(tmp_path: Path, clock: Clock) -> None:
    lad = await _open(tmp_path, clock, CONFIG)
    try:
        for bad in ["", "   ", "x" * 51, "two\nlines"]:
            with pytest.raises(ValidationError):
                await lad.seasons.start(1, bad)
        assert [s.number for s in await lad.seasons.all()] == [1]
        with pytest.raises(ValidationError, match="no season 5"):
            await lad.seasons.archive(5)
        with pytest.raises(ValidationError, match="current season"):
            await lad.seasons.archive(1)
    finally:
        await lad.close()


async def test_a_season_change_that_fails_midway_leaves_the_old_season(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lad = await _open(tmp_path, clock, replace(CONFIG, season=SeasonConfig("reset")))
    await lad.play(1, 2, 1)
    before = await lad.rows("SELECT * FROM ratings ORDER BY discord_uid, race")
    clock.advance(minutes=1)

    async def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(SeasonRepository, "write_records", crash)
    with pytest.raises(RuntimeError):
        await lad.seasons.start(1, "Doomed")
    monkeypatch.undo()
    await lad.close()
    await lad.open()  # the restart
    try:
        assert [s.number for s in await lad.seasons.all()] == [1]
        assert await lad.rows("SELECT * FROM ratings ORDER BY discord_uid, race") == before
        assert await lad.rows("SELECT COUNT(*) FROM season_standings") == [(0,)]
        await lad.seasons.start(1, "Second try")
        assert (await lad.seasons.current()).name == "Second try"
        await lad.assert_replays()
    finally:
        await lad.close()


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("play"), st.sampled_from([1, 2, 3, 4]), st.sampled_from([1, 2, 3, 4]),
                  st.sampled_from(["a", "b", "draw"])),
        st.tuples(st.just("meet"), st.sampled_from([1, 2, 3, 4]), st.sampled_from([1, 2, 3, 4])),
        st.tuples(st.just("finish"), st.sampled_from(["a", "b", "draw"])),
        st.tuples(st.just("season"), st.sampled_from(["keep", "reset", "pull"])),
        st.tuples(st.just("rule"), st.integers(0, 9),
                  st.sampled_from(["p1_win", "p2_win", "draw", "invalidate"])),
        st.tuples(st.just("advance"), st.sampled_from([1, 30, 600])),
    ),
    max_size=14,
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(ACTIONS, st.sampled_from(["elo", "glicko2"]))
def test_random_actions_across_seasons_replay_to_the_stored_ratings(
    actions: list[tuple], system: str
) -> None:
    asyncio.run(_run(actions, system))


async def _run(actions: list[tuple], system: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        config = replace(CONFIG, rating=RatingConfig(system=system))
        lad = await _open(Path(tmp), clock, config)
        svc = lad.service
        pending = []
        try:
            for action in actions:
                kind, *args = action
                with contextlib.suppress(LadderError):
                    if kind == "play" and args[0] != args[1]:
                        a, b, who = args
                        await lad.play(a, b, {"a": a, "b": b, "draw": None}[who])
                    elif kind == "meet" and args[0] != args[1]:
                        if not await lad.queue():
                            pending.append(await lad.match_between(*args))
                    elif kind == "finish" and pending:
                        m = pending.pop(0)
                        out = {"a": ("win", "loss"), "b": ("loss", "win"), "draw": ("draw", "draw")}
                        r1, r2 = out[args[0]]
                        await svc.matches.report(m.id, m.player1_uid, r1)
                        await svc.matches.report(m.id, m.player2_uid, r2)
                    elif kind == "season":
                        core = svc.core
                        core.config = replace(core.config, season=SeasonConfig(args[0], 0.5))
                        clock.advance(seconds=1)
                        await lad.seasons.start(1, f"S{len(await lad.seasons.all()) + 1}")
                    elif kind == "rule":
                        ids = [r[0] for r in await lad.rows("SELECT id FROM matches ORDER BY id")]
                        if ids:
                            match_id = ids[args[0] % len(ids)]
                            await svc.admin.resolve_match(9, match_id, args[1], "ruling")
                    elif kind == "advance":
                        clock.advance(minutes=args[0])
            await lad.assert_replays()
        finally:
            await lad.close()


# --- bot.py ratings replay ---------------------------------------------------------------


async def _cli(argv: list[str], target: Path | str, config: object) -> int:
    # The command runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(ratings_cli.main, argv, target, config)  # type: ignore[arg-type]


def _target(lad: SeasonLadder, tmp_path: Path) -> Path | str:
    """What the host passes the command: the SQLite file, or the DATABASE_URL."""
    if isinstance(lad.db, PostgresDatabase):
        return lad.db.url
    return tmp_path / "ladder.db"


@contextlib.asynccontextmanager
async def _bot_running(target: Path | str) -> AsyncIterator[None]:
    """What a running bot holds: on SQLite its file lock, on PostgreSQL the leader's lock
    (the real election, `storage.leader.Leadership`, elected)."""
    if isinstance(target, Path):
        with RunningLock(target) as bot:
            bot.acquire("starting the bot")
            yield
        return
    leader = Leadership(target, lambda: None, _nothing)
    await leader.start()
    try:
        await asyncio.wait_for(leader.elected.wait(), 30)
        yield
    finally:
        await leader.close()


async def _nothing() -> None:
    return None


_BOT_SESSIONS = (
    "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'ladderbot leader %'"
    " AND datname = current_database()"  # the server is shared with other workers' tests
)


async def _bot_sessions_ended(url: str) -> None:
    """Return once the server processes of stopped bots' sessions have exited (a closed
    session's process ends a moment after the close). pg_terminate_backend(pid, timeout) waits
    for that exit itself; on a session already closing it only waits."""
    watcher = await asyncpg.connect(url)
    try:
        for row in await watcher.fetch(_BOT_SESSIONS):
            await watcher.fetchval("SELECT pg_terminate_backend($1, 30000)", row["pid"])
        assert await watcher.fetch(_BOT_SESSIONS) == []
    finally:
        await watcher.close()


@contextlib.asynccontextmanager
async def _bot_following(url: str) -> AsyncIterator[None]:
    """A bot process that does not lead: its election connection waits for the next try while
    nobody holds the leader lock (the leader just died, say)."""
    blocker = await asyncpg.connect(url)
    follower = Leadership(url, lambda: None, _nothing, retry_seconds=600)
    try:
        # A closed session's lock is freed by its server process a moment after the close: the
        # server wakes this wait when it is.
        await blocker.execute("SELECT pg_advisory_lock($1)", LEADER_LOCK_KEY, timeout=30)
        await follower.start()
        await asyncio.wait_for(follower.outvoted.wait(), 30)  # it tried, and found the lock held
        # The leader lock is free when this returns (closing the session would free it a moment
        # later, racing the command); the follower tries again in 10 min.
        assert await blocker.fetchval("SELECT pg_advisory_unlock($1)", LEADER_LOCK_KEY)
        assert not follower.is_leader
        yield
    finally:
        await blocker.close()
        await follower.close()


TABLES = ("ratings", "matches", "seasons", "season_standings", "rating_log")


async def _ladder(tmp_path: Path, clock: Clock) -> SeasonLadder:
    config = replace(CONFIG, season=SeasonConfig("pull", 0.5))
    lad = SeasonLadder(tmp_path / "ladder.db", clock, config)
    await lad.open()
    await lad.add_players(1, 2, 3, 4)
    await lad.play(1, 2, 1)
    await lad.play(3, 4, 4)
    clock.advance(days=2)
    await lad.seasons.start(1, "Two")
    await lad.play(1, 3, 1)
    clock.advance(days=1)
    await lad.play(2, 4, None)
    return lad


async def _dump(lad: SeasonLadder) -> dict[str, list[tuple]]:
    return {t: await lad.rows(f"SELECT * FROM {t} ORDER BY 1, 2") for t in TABLES}


async def test_dry_run_changes_nothing_and_a_real_run_is_a_fresh_replay(
    tmp_path: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    lad = await _ladder(tmp_path, clock)
    before = await _dump(lad)
    path = _target(lad, tmp_path)
    await lad.close()

    assert await _cli(["replay", "--system", "glicko2", "--dry-run"], path, CONFIG) == 0
    out = capsys.readouterr().out
    assert "under glicko2 (stored under elo)" in out and "Dry run: nothing was written." in out
    assert "Top 20 of the current season" in out and "user1 (bw_terran)" in out
    await lad.open()
    assert await _dump(lad) == before
    await lad.close()

    assert await _cli(["replay", "--system", "glicko2"], path, CONFIG) == 0
    assert "Applied in one transaction." in capsys.readouterr().out
    glicko = replace(CONFIG, rating=RatingConfig(system="glicko2"), season=lad.config.season)
    lad.config = glicko
    await lad.open()
    try:
        after = await _dump(lad)
        assert after["ratings"] != before["ratings"]
        assert [r[5] for r in after["seasons"]] == ["glicko2", "glicko2"]
        await lad.assert_replays()  # equal to a fresh replay under Glicko-2
        # The bot refuses to start with settings that name another system.
        assert lad.db is not None
        with pytest.raises(ratings_cli.SystemMismatchError, match="stored under glicko2"):
            await ratings_cli.check_stored_system(lad.db, CONFIG)
        await ratings_cli.check_stored_system(lad.db, glicko)
    finally:
        await lad.close()
    # Replaying again changes nothing: the stored ratings already are the replay.
    assert await _cli(["replay", "--system", "glicko2"], path, glicko) == 0
    await lad.open()
    try:
        assert await _dump(lad) == after
    finally:
        await lad.close()


async def test_refused_while_the_bot_runs(
    tmp_path: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    lad = await _ladder(tmp_path, clock)
    before = await _dump(lad)
    target = _target(lad, tmp_path)
    await lad.close()
    async with _bot_running(target):
        assert await _cli(["replay", "--system", "glicko2"], target, CONFIG) == 1
    err = capsys.readouterr().err
    assert "the bot is running" in err and "Nothing was changed." in err
    if isinstance(target, str):
        assert "holds the leader lock" in err
        # A bot process that is not the leader is refused on too: its election connection.
        async with _bot_following(target):
            assert await _cli(["replay", "--system", "glicko2"], target, CONFIG) == 1
        err = capsys.readouterr().err
        assert "the bot is running (connected to" in err and "as ladderbot leader " in err
    await lad.open()
    try:
        assert await _dump(lad) == before
    finally:
        await lad.close()
    # Bad usage writes nothing either.
    assert await _cli(["replay", "--system", "trueskill"], target, CONFIG) == 2
    # With the bot gone, the command runs, and it leaves the bot's lock free behind it.
    if isinstance(target, str):
        await _bot_sessions_ended(target)
    assert await _cli(["replay", "--system", "elo", "--dry-run"], target, CONFIG) == 0
    async with _bot_running(target):
        pass

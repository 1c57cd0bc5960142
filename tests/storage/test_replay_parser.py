"""The replay parser in its own process: the shared replays' facts, and every broken or hostile
file refused within the time limit, the next file read as usual."""

from __future__ import annotations

import bz2
import io
import os
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ladder.replays import ReplayFacts, ReplayUnreadableError
from storage.replay_parser import ReplayParser

REPLAYS = Path(__file__).resolve().parents[1] / "data" / "replays"  # real games, README there
ROGUE = REPLAYS / "3.16.0.55505_AbyssalReef_Rogue_vs_Stats.SC2Replay"
JIAANN = REPLAYS / "5.0.0.80949_EverDream_JiaanN_vs_Rairden.SC2Replay"


# The README's table: release, map, type, players as (name, race, result, human).
EXPECTED = {
    "3.16.0.55505_AbyssalReef_Rogue_vs_Stats": (
        "3.16.0.55505", "Abyssal Reef LE", "1v1",
        [("Rogue", "Zerg", "Win", True), ("Stats", "Protoss", "Loss", True)], 296,
    ),
    "5.0.0.80949_EverDream_JiaanN_vs_Rairden": (
        "5.0.0.80949", "Ever Dream LE", "1v1",
        [("JiaanN", "Terran", "Loss", True), ("Rairden", "Zerg", "Win", True)], 1111,
    ),
    "4.3.0.64469_Backwater_Strider_vs_AI": (
        "4.3.0.64469", "Backwater LE", "1v1",
        [("Strider", "Protoss", "Loss", True), ("A.I. 1 (Very Easy)", "Terran", "Win", False)],
        130,
    ),
    "4.4.0.65895_LostAndFound_Gemini_vs_AI": (
        "4.4.0.65895", "Lost and Found LE", "1v1",
        [("Gemini", "Protoss", "Loss", True), ("A.I. 1 (Very Easy)", "Zerg", "Win", False)], 472,
    ),
    "4.7.0.70154_AcidPlant_StoicLoofah_vs_AI": (
        "4.7.0.70154", "Acid Plant LE", "1v1",
        [("StoicLoofah", "Protoss", "Loss", True), ("A.I. 1 (Very Easy)", "Terran", "Win", False)],
        210,
    ),
}  # fmt: skip


@pytest.fixture
def parser() -> ReplayParser:
    return ReplayParser(timeout=10, memory_mb=512)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
async def test_each_1v1_replay_gives_the_readme_facts(parser: ReplayParser, stem: str) -> None:
    facts = await parser.parse((REPLAYS / f"{stem}.SC2Replay").read_bytes())
    release, map_name, game_type, players, length = EXPECTED[stem]
    assert (facts.release, facts.map_name, facts.game_type) == (release, map_name, game_type)
    assert [(p.name, p.race, p.result, p.human) for p in facts.players] == players
    assert facts.length_seconds == length
    assert facts.start_time is not None and facts.start_time.tzinfo is not None


async def test_the_coop_mission_has_seven_slots_and_no_results(parser: ReplayParser) -> None:
    facts = await parser.parse(
        (REPLAYS / "4.11.0.77379_OblivionExpress_coop.SC2Replay").read_bytes()
    )
    assert facts.map_name == "Oblivion Express"
    assert facts.game_type == "3v4"
    assert [p.name for p in facts.humans] == ["daniel", "TalvNNN"]
    assert len(facts.players) == 7
    assert {p.name for p in facts.players if not p.human} == {"Amon's Forces"}
    assert all(p.result is None for p in facts.players)


async def test_the_start_time_is_the_games_in_utc(parser: ReplayParser) -> None:
    facts = await parser.parse(ROGUE.read_bytes())
    assert facts.start_time == datetime(2017, 7, 27, 5, 51, 17, tzinfo=UTC)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("replay.SC2Replay", ROGUE.read_bytes())
    return buf.getvalue()


BROKEN = {
    "empty": lambda: b"",
    "truncated": lambda: ROGUE.read_bytes()[:4000],
    "half": lambda: JIAANN.read_bytes()[: JIAANN.stat().st_size // 2],
    "random bytes": lambda: os.urandom(200_000),
    "a zip": _zip,
    "an MPQ header then random": lambda: ROGUE.read_bytes()[:1024] + os.urandom(100_000),
    "50 MB": lambda: os.urandom(50 * 1024 * 1024),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
async def test_a_broken_file_is_refused_within_the_time_limit(
    parser: ReplayParser, name: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ReplayUnreadableError) as refused:
        await parser.parse(BROKEN[name]())
    assert time.monotonic() - started < parser.timeout + 2
    assert refused.value.reason in ("unreadable", "memory", "timeout")
    assert "replay" in refused.value.user_message
    # The next upload is read as usual.
    assert (await parser.parse(ROGUE.read_bytes())).map_name == "Abyssal Reef LE"


def _worker_doing(code: str) -> tuple[str, ...]:
    """The real worker module with its parsing step replaced by `code` (a function of data)."""
    program = f"import sys, storage.replay_worker as w\nw.read_facts = {code}\nsys.exit(w.main())\n"
    return (sys.executable, "-c", program)


def _bomb() -> bytes:
    # 2 GiB of zeros as 200 concatenated bz2 streams of 10 MiB each: about 8 KB on the wire.
    return bz2.compress(bytes(10 * 1024 * 1024)) * 200


async def test_a_decompression_bomb_meets_the_memory_limit() -> None:
    bomb = _bomb()
    assert len(bomb) < 100_000
    parser = ReplayParser(
        timeout=20,
        memory_mb=256,
        command=_worker_doing("lambda d: __import__('bz2').decompress(d)"),
    )
    started = time.monotonic()
    with pytest.raises(ReplayUnreadableError) as refused:
        await parser.parse(bomb)
    assert refused.value.reason == "memory"
    assert time.monotonic() - started < 20


async def test_a_hanging_parser_is_killed_at_the_time_limit() -> None:
    hang = ReplayParser(
        timeout=1.5, command=_worker_doing("lambda d: __import__('time').sleep(60)")
    )
    started = time.monotonic()
    with pytest.raises(ReplayUnreadableError) as refused:
        await hang.parse(ROGUE.read_bytes())
    assert refused.value.reason == "timeout"
    assert "too long" in refused.value.user_message
    assert time.monotonic() - started < 5


async def test_a_busy_loop_meets_the_cpu_limit_or_the_clock() -> None:
    spin = ReplayParser(timeout=2, command=_worker_doing("lambda d: [0 for _ in iter(int, 1)]"))
    with pytest.raises(ReplayUnreadableError) as refused:
        await spin.parse(b"x")
    assert refused.value.reason in ("timeout", "crashed", "memory")


async def test_a_parser_that_dies_gets_a_clear_answer_and_the_next_file_works() -> None:
    dies = ReplayParser(
        command=_worker_doing("lambda d: __import__('os').kill(__import__('os').getpid(), 9)")
    )
    with pytest.raises(ReplayUnreadableError) as refused:
        await dies.parse(ROGUE.read_bytes())
    assert refused.value.reason == "crashed"
    assert "stopped unexpectedly" in refused.value.user_message
    assert isinstance(await ReplayParser().parse(ROGUE.read_bytes()), ReplayFacts)


async def test_a_worker_that_answers_garbage_is_refused_as_crashed() -> None:
    garbage = ReplayParser(command=(sys.executable, "-c", "print('{not json')"))
    with pytest.raises(ReplayUnreadableError) as refused:
        await garbage.parse(b"x")
    assert refused.value.reason == "crashed"

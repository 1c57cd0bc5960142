"""The current season's map pool is the one the running ladder plays: after a season start
the next wave draws only from the new season's pool and vetoes are checked against it, with
no restart; a restart keeps the season's pool (not the file's); a failed start changes
nothing. Real services on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.config import LadderConfig
from ladder.errors import ValidationError
from services.seasons import SeasonService
from storage.seasons import SeasonRepository

from .conftest import CONFIG, MAPS, Clock, SeasonLadder

NEW_POOL = ("Neo Sylphid", "Heartbreak Ridge", "Outsider")


async def _open(tmp_path: Path, clock: Clock) -> tuple[SeasonLadder, SeasonService]:
    lad = SeasonLadder(tmp_path / "ladder.db", clock, CONFIG)
    await lad.open()
    # As bot.py wires it: the file's pool (here NEW_POOL) is the next season's.
    seasons = SeasonService(lad.service.core, next_map_pool=NEW_POOL)
    await seasons.use_current_map_pool()
    return lad, seasons


async def _maps_of_waves(lad: SeasonLadder, clock: Clock, rounds: int) -> set[str]:
    maps = set()
    for _ in range(rounds):
        update = await lad.play(1, 2, 1)
        maps.add(update.match.map)
        clock.advance(hours=2)  # past the rematch window
    return maps


async def test_a_new_season_s_pool_reaches_the_next_wave(tmp_path: Path, clock: Clock) -> None:
    lad, seasons = await _open(tmp_path, clock)
    told: list[LadderConfig] = []
    lad.service.core.config_listeners.append(told.append)
    try:
        await lad.add_players(1, 2, 3, 4)
        assert await _maps_of_waves(lad, clock, 3) <= set(MAPS)
        # Queued with a veto of the old pool across the change: still queued, still matched.
        await lad.service.queue.join_queue(3, ["bw_terran"], ["Eclipse"])
        started = await seasons.start(42, "New maps")
        assert started.started.map_pool == NEW_POOL
        assert lad.service.queue.config.map_pool == NEW_POOL
        assert [c.map_pool for c in told] == [NEW_POOL]
        await lad.service.queue.join_queue(4, ["bw_terran"], [])
        (match,) = await lad.service.queue.run_wave()
        assert {match.player1_uid, match.player2_uid} == {3, 4} and match.map in NEW_POOL
        await lad.service.matches.abort(match.id, 3)
        assert await _maps_of_waves(lad, clock, 6) <= set(NEW_POOL)
        # Vetoes are the new pool's: an old map is refused, and nothing is queued.
        with pytest.raises(ValidationError, match="Eclipse"):
            await lad.service.queue.join_queue(3, ["bw_terran"], ["Eclipse"])
        assert await lad.queue() == []
        await lad.service.queue.join_queue(3, ["bw_terran"], ["Outsider"])
        assert (await lad.service.queue.queue_preferences(3)).vetoes == ("Outsider",)
    finally:
        await lad.close()


async def test_a_restart_plays_the_season_s_pool(tmp_path: Path, clock: Clock) -> None:
    lad, seasons = await _open(tmp_path, clock)
    await lad.add_players(1, 2)
    await seasons.start(42, "New maps")
    await lad.close()
    # Restarted with the file's pool back at MAPS: the season keeps NEW_POOL.
    lad = SeasonLadder(tmp_path / "ladder.db", clock, CONFIG)
    await lad.open()
    try:
        assert lad.service.queue.config.map_pool == MAPS
        assert await SeasonService(lad.service.core).use_current_map_pool() == NEW_POOL
        assert await _maps_of_waves(lad, clock, 4) <= set(NEW_POOL)
    finally:
        await lad.close()


async def test_a_failed_season_start_keeps_the_pool(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lad, seasons = await _open(tmp_path, clock)

    async def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(SeasonRepository, "write_records", crash)
    try:
        with pytest.raises(RuntimeError):
            await seasons.start(42, "Doomed")
        assert lad.service.queue.config.map_pool == MAPS
        assert (await seasons.current()).number == 1
    finally:
        await lad.close()

"""Random player, timer, admin and season actions through the real services: after every step,
each player's kept /profile is what a fresh read gives (storage.leaderboard's profile cache).

The cache is filled before every step, so a write that fails to drop what it changed, or a
clock move past a window's edge, shows as a difference at the next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ladder.errors import LadderError
from ladder.players import ProfileDraft
from storage.leaderboard import LeaderboardRepository

from .conftest import CONFIG, Clock, SeasonLadder

PLAYERS = (1, 2, 3, 4)
uids = st.sampled_from(PLAYERS)
outcomes = st.sampled_from(["win", "loss", "draw"])
ARGS = {
    "play": st.tuples(uids, uids, outcomes),
    "meet": st.tuples(uids, uids),
    "abort": st.tuples(st.integers(0, 1)),
    "report": st.tuples(st.integers(0, 1), outcomes),
    "timeouts": st.tuples(),
    # Seconds to days: matches leave the 14/30/90-day windows; T0 + 22 days is April.
    "advance": st.tuples(st.sampled_from([61, 3601, 86_400 * 6, 86_400 * 15, 86_400 * 40])),
    "rule": st.tuples(st.integers(0, 9), st.sampled_from(["p1_win", "p2_win", "invalidate"])),
    "adjust": st.tuples(uids, st.integers(1, 300)),
    "rename": st.tuples(uids),
    "season": st.tuples(),
}
KINDS = ["play"] * 5 + ["meet"] * 4 + ["abort"] * 3 + ["report", "advance"] + list(ARGS)
actions = st.sampled_from(KINDS).flatmap(lambda k: ARGS[k].map(lambda args: (k, *args)))


async def scenario(path: Path, steps: list[tuple]) -> None:
    lad = SeasonLadder(path, Clock(), CONFIG)
    svc = await lad.open()
    await lad.add_players(*PLAYERS)
    assert lad.db is not None
    kept = LeaderboardRepository(lad.db, aborts_per_month=3)
    await kept.follow_changes()
    fresh = LeaderboardRepository(lad.db, aborts_per_month=3)
    open_matches: list[tuple[int, tuple[int, int]]] = []
    finished: list[int] = []
    try:
        for number, (kind, *args) in enumerate(steps):
            for uid in PLAYERS:  # fill the cache: the step must drop what it changes
                await kept.profile(uid, lad.clock.now)
            try:
                if kind in ("play", "meet"):
                    for uid in dict.fromkeys(args[:2]):
                        with contextlib.suppress(LadderError):
                            await svc.queue.join_queue(uid, ["bw_terran"], [])
                    for m in await svc.queue.run_wave():
                        await svc.matches.confirm(m.id, m.player1_uid)
                        await svc.matches.confirm(m.id, m.player2_uid)
                        if kind == "meet":
                            open_matches.append((m.id, m.players))
                            continue
                        await svc.matches.report(m.id, m.player1_uid, args[2])
                        await svc.matches.report(m.id, m.player2_uid, args[2])
                        finished.append(m.id)
                elif kind in ("abort", "report") and open_matches:
                    match_id, players = open_matches.pop()
                    if kind == "abort":
                        await svc.matches.abort(match_id, players[args[0]])
                    else:
                        await svc.matches.report(match_id, players[args[0]], args[1])
                elif kind == "timeouts":
                    await svc.matches.fire_due_timeouts()
                elif kind == "advance":
                    lad.clock.advance(seconds=args[0])
                elif kind == "rule" and finished:
                    target = finished[args[0] % len(finished)]
                    await svc.admin.resolve_match(99, target, args[1], "fuzz")
                elif kind == "adjust":
                    await svc.admin.adjust_mmr(99, args[0], "bw_terran", "add", args[1], "fuzz")
                elif kind == "rename":
                    name = f"renamed{args[0]}x{number}"
                    draft = ProfileDraft(name, f"{name}#1234", (), "US", "na")
                    await lad.players.save_profile(args[0], f"user{args[0]}", draft)
                elif kind == "season":
                    await lad.seasons.start(99, f"Season {number}")
            except LadderError:
                pass  # refused, as a player would be told: nothing changed
            now = lad.clock.now
            for uid in PLAYERS:
                assert await kept.profile(uid, now) == await fresh.profile(uid, now), (
                    number,
                    kind,
                    uid,
                )
        # The cache did its work: most reads were answered from it.
        assert kept.cache.hits > 0
    finally:
        await lad.close()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(actions, min_size=10, max_size=40))
def test_a_kept_profile_is_always_a_fresh_one(steps: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp) / "ladder.db", steps))

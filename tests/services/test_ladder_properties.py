"""Random sequences of player, timer and admin actions: never rated twice, never any drift."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ladder.errors import LadderError
from ladder.rating import diff_ratings, replay_log
from ladder.reports import Finalised, Invalidated, MatchStatus
from storage.ratings import RatingRepository

from .conftest import CONFIG, Clock, Ladder

PLAYERS = (1, 2, 3, 4)
RACES = ("bw_terran", "sc2_zerg")
RATING = CONFIG.rating

uids = st.sampled_from(PLAYERS)
races = st.sampled_from([RACES[:1], RACES[1:], RACES])
# Match actions name a recent match (0 = the latest) and a side: 0 or 1 is one of its players,
# 2 is a stranger (who must be refused).
picks, sides = st.integers(0, 2), st.sampled_from([0, 0, 1, 1, 2])
outcomes = st.sampled_from(["win", "loss", "draw"])
ARGS = {
    "play": st.tuples(uids, uids, races, outcomes, outcomes),
    "meet": st.tuples(uids, uids, races),
    "join": st.tuples(uids, races),
    "leave": st.tuples(uids),
    "wave": st.tuples(),
    "confirm": st.tuples(picks, sides),
    "report": st.tuples(picks, sides, st.sampled_from(["win", "loss", "draw"])),
    "abort": st.tuples(picks, sides),
    "advance": st.tuples(st.sampled_from([5, 5, 30, 61, 1800, 3601])),
    "timeouts": st.tuples(),
    "rule": st.tuples(st.integers(0, 9), st.sampled_from(["p1_win", "p2_win", "draw",
                                                          "invalidate"])),
    "adjust": st.tuples(uids, st.sampled_from(RACES), st.sampled_from(["set", "add", "subtract"]),
                        st.integers(1, 400)),
    "race": st.tuples(picks, sides, st.sampled_from(["win", "loss"])),
}  # fmt: skip
# Weighted by repetition: matches must get made, confirmed and reported often enough for the
# interesting races (timeouts, rulings, corrections) to happen in a few dozen steps.
KINDS = (
    ["play"] * 4
    + ["meet"] * 2
    + ["confirm"] * 5
    + ["report"] * 8
    + ["rule"] * 3
    + ["advance", "timeouts"]
    + list(ARGS)
)
actions = st.sampled_from(KINDS).flatmap(lambda k: ARGS[k].map(lambda args: (k, *args)))


async def scenario(path: Path, steps: list[tuple]) -> None:
    lad = Ladder(path, Clock())
    svc = await lad.open()
    await lad.add_players(*PLAYERS)
    match_ids: list[int] = []
    updates = []

    players_of: dict[int, tuple[int, int]] = {}

    def chosen(pick: int, side: int) -> tuple[int, int] | None:
        if not match_ids:
            return None
        target = match_ids[-1 - pick % len(match_ids)]
        players = players_of[target]
        uid = players[side] if side < 2 else min(set(PLAYERS) - set(players))
        return target, uid

    try:
        for step in steps:
            kind, *args = step
            try:
                if kind in ("meet", "play"):  # both queue (if they can), then a wave
                    for uid in dict.fromkeys(args[:2]):
                        with contextlib.suppress(LadderError):
                            await svc.queue.join_queue(uid, args[2], [])
                    made = await svc.queue.run_wave()
                    for m in made:
                        match_ids.append(m.id)
                        players_of[m.id] = m.players
                    if kind == "play" and made:  # ... and they play it out at once
                        m = made[-1]
                        updates.append(await svc.matches.confirm(m.id, m.player1_uid))
                        updates.append(await svc.matches.confirm(m.id, m.player2_uid))
                        updates.append(await svc.matches.report(m.id, m.player1_uid, args[3]))
                        updates.append(await svc.matches.report(m.id, m.player2_uid, args[4]))
                elif kind == "join":
                    await svc.queue.join_queue(args[0], args[1], [])
                elif kind == "leave":
                    await svc.queue.leave_queue(args[0])
                elif kind == "wave":
                    for m in await svc.queue.run_wave():
                        match_ids.append(m.id)
                        players_of[m.id] = m.players
                elif kind == "advance":
                    lad.clock.advance(seconds=args[0])
                elif kind == "timeouts":
                    updates += await svc.matches.fire_due_timeouts()
                elif kind == "rule" and match_ids:
                    # Mostly rated matches: corrections replay the log, which is the hard part.
                    logged = [r[0] for r in await lad.rows("SELECT match_id FROM rating_log")]
                    pool = [m for m in logged if m] if args[0] % 3 and any(logged) else match_ids
                    target = pool[args[0] % len(pool)]
                    updates.append(await svc.admin.resolve_match(99, target, args[1], "fuzz"))
                elif kind == "adjust":
                    await svc.admin.adjust_mmr(99, args[0], args[1], args[2], args[3], "fuzz")
                elif kind in ("confirm", "abort", "report", "race"):
                    if (pair := chosen(args[0], args[1])) is None:
                        continue
                    target, uid = pair
                    if kind == "confirm":
                        updates.append(await svc.matches.confirm(target, uid))
                    elif kind == "abort":
                        updates.append(await svc.matches.abort(target, uid))
                    elif kind == "report":
                        updates.append(await svc.matches.report(target, uid, args[2]))
                    else:  # a report, a double click and the timer, all at once
                        got = await asyncio.gather(
                            svc.matches.report(target, uid, args[2]),
                            svc.matches.report(target, uid, args[2]),
                            svc.matches.fire_due_timeouts(),
                            return_exceptions=True,
                        )
                        for item in got:
                            if isinstance(item, list):
                                updates += item
                            elif isinstance(item, BaseException):
                                if not isinstance(item, LadderError):
                                    raise item
                            else:
                                updates.append(item)
            except LadderError:
                pass  # a refusal the player would see; the state must still be consistent

        # Never rated twice: each rating of a match is undone by an invalidation before another.
        rated: Counter[int] = Counter()
        for update in updates:
            for effect in update.events:
                if isinstance(effect, Finalised):
                    rated[update.match.id] += 1
                elif isinstance(effect, Invalidated) and effect.previous_result is not None:
                    rated[update.match.id] -= 1
        finished = {
            row[0] for row in await lad.rows("SELECT id FROM matches WHERE status = 'finished'")
        }
        assert {m for m, n in rated.items() if n} == finished
        assert set(rated.values()) <= {0, 1}
        logged = [row[0] for row in await lad.rows("SELECT match_id FROM rating_log")]
        assert sorted(m for m in logged if m is not None) == sorted(finished)
        ((games,),) = await lad.rows("SELECT COALESCE(SUM(games), 0) FROM ratings")
        assert games == 2 * len(finished)
        for match_id in match_ids:
            view = await svc.matches.get_match(match_id)
            assert (view.mmr_change is not None) == (view.status is MatchStatus.FINISHED)

        # A fresh replay of the stored log gives the stored ratings and every stored step.
        entries, stored_steps = await RatingRepository().log_from(lad.db.conn)
        fresh = replay_log(entries, RATING.start, RATING.k_factor, RATING.divisor)
        assert list(fresh.steps) == stored_steps
        stored = {r.key: r.mmr for r in await RatingRepository().all(lad.db.conn)}
        assert diff_ratings(stored, fresh.ratings, RATING.start) == []
        await lad.assert_ratings_replay()  # W/L/D and last played have not drifted either
    finally:
        await lad.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(actions, min_size=20, max_size=60))
def test_random_actions_never_rate_twice_nor_drift(steps: list[tuple]) -> None:
    # Hypothesis runs many examples per test: each gets its own file and event loop.
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp) / "ladder.db", steps))
